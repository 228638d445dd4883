// What the charts' axes share across pages.

/** An axis's tick options: epochs are whole, so no 1.5 on their axis. */
export const axisTicks = (axis: string) => (axis === 'epoch' ? { stepSize: 1, precision: 0 } : {});
