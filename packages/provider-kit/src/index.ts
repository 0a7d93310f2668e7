export {
  type ClassifyContext,
  type DefinedEagerMount,
  type DefinedLazyMount,
  defineEagerMount,
  defineLazyMount,
  type EagerMountDefinition,
  type EagerWriter,
  isTransient,
  type LazyMountDefinition,
  type MountOperation,
  type MountTraits,
  markPersistent,
  mountTraits,
  type OperationContext,
  type Page,
  type PaginateOptions,
  type PutResult,
  type PutSource,
  paginate,
  type RawEntry,
  type RetryOwner,
  readSource,
  sourceChunks,
} from "@ws/core";
export { type BackoffOptions, backoffDelay, parseRetryAfter } from "./backoff.js";
export { concatBytes } from "./bytes.js";
export {
  type Classification,
  type ClassifyHttpOptions,
  classifyHttpStatus,
  classifyNetworkError,
  httpStatusError,
} from "./classify.js";
export {
  closeHttpPools,
  type HttpPoolOptions,
  type HttpRequestOptions,
  type HttpResponse,
  httpPool,
  httpRequest,
} from "./http.js";
export { type ApplyLayersOptions, applyLayers } from "./layers/apply-layers.js";
export { concurrencyLayer } from "./layers/concurrency-layer.js";
export { type ObserveEvent, type ObserveSink, observeLayer } from "./layers/observe-layer.js";
export { readOnlyLayer } from "./layers/read-only-layer.js";
export { redactLayer } from "./layers/redact-layer.js";
export { type RetryAttempt, type RetryLayerOptions, retryLayer } from "./layers/retry-layer.js";
export {
  attemptsOf,
  type Interceptor,
  interceptMount,
  type LayerContext,
  type LayeredOperation,
  type MountLayer,
} from "./layers/wrap-mount.js";
export { createLimiter, type Limiter, mapConcurrent } from "./limiter.js";
export { type DispatchOnly, type NodeDispatcher, nodeDispatcher } from "./node-dispatcher.js";
export {
  booleanOption,
  enumOption,
  type IntegerOptionBounds,
  integerOption,
  type StringOptionRules,
  stringOption,
  type UrlOptionRules,
  urlOption,
} from "./option-helpers.js";
