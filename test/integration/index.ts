// The integration suites, bundled into one file that runs inside the extension host. Listed
// explicitly, in order: the first suite measures activation before anything else activates CNN Lab.
import './activation.integration.test';
import './walkthrough.integration.test';
import './welcome.integration.test';
import './hints.integration.test';
import './notebook.integration.test';
import './checkpointLoad.integration.test';
import './training.integration.test';
import './dashboard.integration.test';
import './dataset.integration.test';
import './playground.integration.test';
import './load.integration.test';
import './inspector.integration.test';
import './tensor.integration.test';
import './readme.integration.test';
