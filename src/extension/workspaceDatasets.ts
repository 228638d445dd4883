import * as vscode from 'vscode';
import { DatasetError, prepareDataset } from '../core/datasets/datasets';
import { type ImageDataset, readImageDataset } from '../core/datasets/images';
import { type DatasetId, trainingDefaults } from '../core/protocol/trainer';

/**
 * A named dataset read from its files where training finds them (cnnLab.dataDirectory in the
 * workspace), never downloaded from here: a DatasetError says where to put them.
 */
export async function readWorkspaceDataset(dataset: DatasetId): Promise<{ folder: string | null; images: ImageDataset }> {
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri;
  const dataDir = workspace ? vscode.Uri.joinPath(workspace, vscode.workspace.getConfiguration('cnnLab').get<string>('dataDirectory', 'data')).fsPath : null;
  try {
    const config = await prepareDataset({ ...trainingDefaults, modelFile: '', dataset, dataDir }, { download: false });
    return { folder: config.dataDir, images: readImageDataset(dataset, config.dataDir, trainingDefaults.seed) };
  } catch (error) {
    if (error instanceof DatasetError) throw new Error(`${error.message} Training on it once (CNN Lab: Train Model…) downloads it.`);
    throw error;
  }
}
