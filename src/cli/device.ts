/** `--device cpu|webgpu|auto` for the training commands: makes the choice the default backend. */
import { CliError } from './errors.js';

/** Selects the device (default cpu) and returns its name; a bad name or a missing adapter is a CliError. */
export async function useDevice(value: unknown, command: string): Promise<string> {
  const { parseDevice, selectDevice } = await import('../backends/index.js');
  try {
    return (await selectDevice(parseDevice(String(value ?? 'cpu')))).name;
  } catch (err) {
    throw new CliError(`${command}: --device: ${(err as Error).message}`);
  }
}
