export type {
  R2BucketBinding,
  R2ConditionalLike,
  R2GetOptionsLike,
  R2ListOptionsLike,
  R2MultipartOptionsLike,
  R2MultipartUploadLike,
  R2ObjectBodyLike,
  R2ObjectLike,
  R2ObjectsLike,
  R2PutOptionsLike,
  R2UploadedPartLike,
} from "./r2-binding.js";
export { R2Bucket, type R2BucketMount, type R2BucketOptions } from "./r2-bucket.js";
