// What the views share: the signed-in client and the bucket on screen.
export const state = {
  /** The oss.js Client of the signed-in AccessKey. */
  client: null,
  /** This endpoint's region: `oss-cn-hangzhou` (name) and `cn-hangzhou` (V4 signing). */
  regionName: "",
  /** Bucket names from ListBuckets. */
  buckets: [],
  /** The open bucket's name. */
  bucket: "",
};
