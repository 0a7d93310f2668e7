export { addContentMd5ToDeleteObjects } from "./content-md5.js";
export { S3Bucket, type S3BucketMount, type S3BucketOptions, type S3ObjectInfo } from "./s3-bucket.js";
