package setup

import (
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

// VerifyChecks returns the HTTP checks of verify-url with its status,
// body and headers, or nil when no verify-url is given. Header values are
// masked first: they often carry tokens.
func VerifyChecks(cfg *config.Config, mask func(string)) ([]verify.Check, error) {
	if cfg.VerifyURL == "" {
		return nil, nil
	}
	st, err := verify.ParseStatus(cfg.VerifyStatus)
	if err != nil {
		return nil, config.Errorf("verify-status", "%v", err)
	}
	body, err := verify.ParseBody(cfg.VerifyBody)
	if err != nil {
		return nil, config.Errorf("verify-body", "%v", err)
	}
	headers, err := verify.ParseHeaders(cfg.VerifyHeaders)
	if err != nil {
		return nil, config.Errorf("verify-headers", "%v", err)
	}
	for _, vs := range headers {
		for _, v := range vs {
			mask(v)
		}
	}
	return []verify.Check{{URL: cfg.VerifyURL, Status: st, Body: body, Header: headers, Timeout: cfg.VerifyTimeout.D()}}, nil
}
