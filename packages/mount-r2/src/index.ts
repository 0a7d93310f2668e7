export type {
  R2BucketBinding,
  R2ConditionalLike,
  R2GetOptionsLike,
  R2ListOptionsLike,
  R2ObjectBodyLike,
  R2ObjectLike,
  R2ObjectsLike,
  R2PutOptionsLike,
} from "./r2-binding.js";
export { R2Bucket, type R2BucketMount, type R2BucketOptions } from "./r2-bucket.js";
