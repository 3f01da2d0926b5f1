import { type EmulatorServer, startEmulatorServer } from '../../../lib/simulator/emulator/server.js';

/**
 * Points the suite's real SDK clients at the emulated account over HTTP: starts the emulator before
 * the suite, sets `endpointVariable` (the SDK's AWS_ENDPOINT_URL_<SERVICE>) to it with throwaway
 * credentials and no profile, and puts the environment back after. Call it inside `describe`.
 */
export function useEmulatorServer(endpointVariable: string): () => EmulatorServer {
  const keys = [endpointVariable, 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE'];
  const saved = new Map<string, string | undefined>();
  let server: EmulatorServer | undefined;

  beforeAll(async () => {
    server = await startEmulatorServer();
    for (const key of keys) saved.set(key, process.env[key]);
    process.env[endpointVariable] = server.url;
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    delete process.env.AWS_PROFILE;
  });

  afterAll(async () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await server?.close();
  });

  return () => {
    if (!server) {
      throw new Error('The emulator runs only while the suite does.');
    }
    return server;
  };
}
