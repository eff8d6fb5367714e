package kube

import "github.com/bluegreen-dev/bluegreen-action/internal/color"

// Labels and annotations bluegreen sets. The app label is the common
// Kubernetes one so that other tools group the colors too.
const (
	AppLabel       = "app.kubernetes.io/name"
	ColorLabel     = "bluegreen.dev/color"
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "bluegreen"

	ImageAnnotation      = "bluegreen.dev/image"
	DigestAnnotation     = "bluegreen.dev/digest"
	GitSHAAnnotation     = "bluegreen.dev/git-sha"
	RunURLAnnotation     = "bluegreen.dev/run-url"
	DeployedAtAnnotation = "bluegreen.dev/deployed-at"
)

// Name is the name of an application's resource of color c: its
// Deployment and its per-color Service.
func Name(app string, c color.Color) string { return app + "-" + string(c) }

// Selector selects the pods of color c of app.
func Selector(app string, c color.Color) map[string]string {
	return map[string]string{AppLabel: app, ColorLabel: string(c)}
}

// SelectorString is Selector in label-selector syntax, for list calls.
func SelectorString(app string, c color.Color) string {
	return AppLabel + "=" + app + "," + ColorLabel + "=" + string(c)
}
