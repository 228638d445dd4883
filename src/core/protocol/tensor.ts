// Messages between the host and View Tensor's page. Both sides validate what they receive.
import { tensorProbeAnswer } from '../debug/tensorProbe';
import { boolean, type Infer, messages, string } from '../schema';

const text = (maxLength = 500) => string({ maxLength });

export const tensorToWebview = messages({
  /** The probe's answer for `expression`, as the debuggee gave it (checked), values in base64 float32; pinned: read again at each stop. */
  tensor: { expression: text(), answer: tensorProbeAnswer, pinned: boolean },
  /** Why there is nothing to draw. */
  problem: { expression: text(), message: text(1000), pinned: boolean },
});

export const tensorToHost = messages({
  ready: {},
  /** Pinned, the expression shown is read again whenever the debugger stops or another frame is focused; naming it, a click that crosses a newer expression on its way pins nothing. */
  pin: { expression: text(), pinned: boolean },
});

export type TensorToWebview = Infer<typeof tensorToWebview>;
export type TensorToHost = Infer<typeof tensorToHost>;
