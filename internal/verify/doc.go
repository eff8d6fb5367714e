// Package verify checks a release over HTTP: a GET that must answer an
// expected status, optionally with an expected body, retried until a
// deadline. Deploys use it through the preview route before the switch and
// against production during the bake; the `verify` command and the Lambda
// lifecycle hooks (package hook) run the same checks on their own.
//
// A Check is what to request and what answer passes. Its parts are parsed
// from the user's inputs by ParseStatus, ParseBody and ParseHeaders, which
// return errors for the caller to attach to the input's name. Failures
// wrap ErrFailed and say what the last answer was: the status and a
// shortened excerpt of the body, never a request header's value, and the
// URL without its password.
package verify
