// Package configmap keeps an application's deploy history in a ConfigMap
// named "<app>-bluegreen-history" beside the application, so that any CI
// job with access to the namespace can read what ran before.
//
// The entries are a JSON array under the data key "history.json", newest
// first and at most history.Limit long. Appends are read-modify-write with
// the resourceVersion just read, retried on Conflict, so concurrent runs do
// not drop each other's entries.
package configmap
