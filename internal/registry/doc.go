// Package registry promotes an image by digest: it copies an image or a
// whole multi-arch index from a registry, an OCI layout directory or a
// `docker save` archive to a repository, usually in ECR, and tags it, with
// go-containerregistry and no Docker daemon.
//
// Promoting QA to production must ship what QA ran, not whatever a tag
// points at by the time the copy runs: a source given by digest is read by
// that digest, and one given by tag is resolved once, after which every
// manifest and blob is read by digest and that digest is reported.
//
// Copies move as few bytes as the registries allow. Blobs the target
// repository has are skipped; blobs in another repository of the same
// registry are mounted (the registry links them, nothing is uploaded).
// Result counts what really crossed the wire, so tests can prove it.
//
// ECRAuth turns an ECR authorization token into credentials for Promote,
// masking them first; EnsureRepository finds, or creates, the target
// repository; ParseTarget and ParseSource validate the inputs before any
// of that runs. Credentials of other registries come from the Docker
// config, as `docker login` leaves them.
package registry
