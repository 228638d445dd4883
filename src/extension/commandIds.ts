// Kept free of `vscode` so a plain-Node test can check it against package.json.
export const commandIds = ['cnnLab.trainModel', 'cnnLab.stopTraining', 'cnnLab.resumeTraining', 'cnnLab.openTrainingSettings', 'cnnLab.showDashboard', 'cnnLab.revealRun', 'cnnLab.deleteRun', 'cnnLab.compareRuns', 'cnnLab.browseDataset', 'cnnLab.openFilterPlayground', 'cnnLab.inspectLayer', 'cnnLab.createExampleProject', 'cnnLab.showWelcome', 'cnnLab.checkEnvironment', 'cnnLab.showModelSummary', 'cnnLab.compareModels', 'cnnLab.showLog'] as const;
export type CommandId = (typeof commandIds)[number];
