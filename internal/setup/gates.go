package setup

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/gate"
)

// gates builds the metric gates of cfg and reads each once, before any
// write, so that a query Prometheus refuses or an alarm that does not
// exist is a bad input naming its input. cw, when not nil, stands for
// CloudWatch (tests); otherwise the AWS configuration is loaded.
func gates(ctx context.Context, cfg *config.Config, counter *awsapi.Counter, cw gate.AlarmsAPI) ([]gate.Gate, error) {
	var out []gate.Gate
	g := cfg.Gates
	if g.Prometheus != "" {
		p := &gate.Prometheus{URL: g.PrometheusURL, Query: g.Prometheus}
		switch err := p.Validate(ctx); {
		case errors.Is(err, gate.ErrBadQuery):
			return nil, config.Errorf("gate-prometheus", "%v", err)
		case err != nil:
			return nil, config.Errorf("prometheus-url", "%v", err)
		}
		out = append(out, p)
	}
	if len(g.CloudWatchAlarms) > 0 {
		if cw == nil {
			awsCfg, err := loadAWS(ctx, cfg, counter)
			if err != nil {
				return nil, err
			}
			cw = cloudwatch.NewFromConfig(awsCfg)
		}
		a := &gate.Alarms{API: cw, Names: g.CloudWatchAlarms}
		if err := a.Validate(ctx); err != nil {
			return nil, config.Errorf("gate-cloudwatch-alarms", "%v", err)
		}
		out = append(out, a)
	}
	return out, nil
}
