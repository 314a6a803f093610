/**
 * Loads `@opentelemetry/api`, an optional peer dependency, only when a
 * tracer asks for OpenTelemetry, so applications without it never need it.
 * The API keeps its registered provider and context manager on `globalThis`,
 * so this copy sees what the application registered, whichever module format
 * it imported.
 */
import { createRequire } from 'node:module';

/** The `@opentelemetry/api` module. */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** The module, or the reason it could not be loaded. */
export type OpenTelemetryLoad = { readonly api: OpenTelemetryApi } | { readonly error: unknown };

let loaded: OpenTelemetryLoad | undefined;

/** Loads `@opentelemetry/api` once per process. */
export function loadOpenTelemetry(): OpenTelemetryLoad {
  if (loaded === undefined) {
    try {
      loaded = { api: createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi };
    } catch (error) {
      loaded = { error };
    }
  }
  return loaded;
}
