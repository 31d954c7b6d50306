/** `--device cpu|webgpu|auto` for the training commands. */
import type { DeviceName } from '../backends/index.js';
import { CliError } from './errors.js';

/** The device name, checked before any slow work; a bad one is a CliError. */
export async function checkDevice(value: unknown, command: string): Promise<DeviceName> {
  const { parseDevice } = await import('../backends/index.js');
  try {
    return parseDevice(String(value ?? 'cpu'));
  } catch (err) {
    throw new CliError(`${command}: --device: ${(err as Error).message}`);
  }
}

/** Makes the device (default cpu) the default backend and returns its name; a missing adapter is a CliError. */
export async function useDevice(value: unknown, command: string): Promise<string> {
  const { selectDevice } = await import('../backends/index.js');
  const name = await checkDevice(value, command);
  try {
    return (await selectDevice(name)).name;
  } catch (err) {
    throw new CliError(`${command}: --device: ${(err as Error).message}`);
  }
}
