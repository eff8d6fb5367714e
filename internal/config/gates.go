package config

import "net/url"

// Gates holds the inputs of the metric gates, checked between traffic
// steps and during the bake on every platform.
type Gates struct {
	Prometheus       string `env:"GATE_PROMETHEUS"`
	PrometheusURL    string `env:"PROMETHEUS_URL"`
	CloudWatchAlarms List   `env:"GATE_CLOUDWATCH_ALARMS"`
}

func (g *Gates) validate() []error {
	var errs []error
	add := func(input, format string, args ...any) { errs = append(errs, Errorf(input, format, args...)) }
	switch {
	case g.Prometheus != "" && g.PrometheusURL == "":
		add("prometheus-url", "is required with gate-prometheus: the Prometheus server to query, e.g. http://prometheus:9090")
	case g.PrometheusURL != "" && g.Prometheus == "":
		add("gate-prometheus", "is required with prometheus-url: a PromQL expression that returns a non-zero sample when the release is bad")
	}
	if g.PrometheusURL != "" {
		if u, err := url.Parse(g.PrometheusURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("prometheus-url", "%q is not an http or https URL, e.g. http://prometheus:9090", g.PrometheusURL)
		}
	}
	if len(g.CloudWatchAlarms) > 100 {
		add("gate-cloudwatch-alarms", "names %d alarms; at most 100", len(g.CloudWatchAlarms))
	}
	for _, n := range g.CloudWatchAlarms {
		if len(n) > 255 {
			add("gate-cloudwatch-alarms", "%q is longer than an alarm name can be (255)", n)
		}
	}
	return errs
}
