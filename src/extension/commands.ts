import * as vscode from 'vscode';
import { commandIds, type CommandId } from './commandIds';

export type CommandTable = Record<CommandId, (...args: unknown[]) => unknown>;

/** Registers every command of the table; the table's type makes sure none of package.json's is missing. */
export function registerCommands(table: CommandTable): vscode.Disposable {
  return vscode.Disposable.from(...commandIds.map((id) => vscode.commands.registerCommand(id, table[id])));
}
