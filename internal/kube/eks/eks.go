// Package eks connects to an Amazon EKS cluster without the AWS CLI or a
// kubeconfig: it reads the cluster's endpoint and CA with DescribeCluster
// and authenticates with a bearer token made from a presigned STS
// GetCallerIdentity request, the form the cluster's IAM authenticator
// accepts. The action's image holds no AWS CLI, so the usual kubeconfig
// with an `aws eks get-token` exec plugin cannot work there.
package eks

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"k8s.io/client-go/rest"
)

// clusterAPI is the part of the EKS API this package uses.
type clusterAPI interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, opts ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
}

var _ clusterAPI = (*eks.Client)(nil)

// Tokens made here are valid for 15 minutes from signing; they are
// replaced well before that.
const (
	tokenPrefix  = "k8s-aws-v1."
	tokenRefresh = 10 * time.Minute
	clusterIDHdr = "x-k8s-aws-id"
)

// RestConfig returns a client configuration for the EKS cluster name. The
// bearer token is renewed before it expires, for runs that outlast it.
func RestConfig(ctx context.Context, api clusterAPI, tokens *TokenSource) (*rest.Config, error) {
	out, err := api.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: &tokens.cluster})
	if err != nil {
		return nil, fmt.Errorf("describing EKS cluster %q: %w", tokens.cluster, err)
	}
	c := out.Cluster
	if c == nil || c.Endpoint == nil || c.CertificateAuthority == nil || c.CertificateAuthority.Data == nil {
		return nil, fmt.Errorf("EKS cluster %q has no endpoint or CA yet (status %v)", tokens.cluster, statusOf(out))
	}
	ca, err := base64.StdEncoding.DecodeString(*c.CertificateAuthority.Data)
	if err != nil {
		return nil, fmt.Errorf("decoding the CA of EKS cluster %q: %w", tokens.cluster, err)
	}
	if _, err := tokens.Token(ctx); err != nil {
		return nil, err
	}
	cfg := &rest.Config{
		Host:            *c.Endpoint,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		UserAgent:       "bluegreen",
		QPS:             50,
		Burst:           100,
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &bearer{next: rt, tokens: tokens} })
	return cfg, nil
}

func statusOf(out *eks.DescribeClusterOutput) any {
	if out.Cluster == nil {
		return "unknown"
	}
	return out.Cluster.Status
}

// TokenSource makes and caches bearer tokens for one cluster.
type TokenSource struct {
	cluster string
	sts     *sts.PresignClient
	now     func() time.Time
	mask    func(string)

	mu      sync.Mutex
	token   string
	created time.Time
}

// NewTokenSource returns tokens for cluster signed with the credentials of
// client. mask is called with every new token before it is used.
func NewTokenSource(cluster string, client *sts.Client, mask func(string)) *TokenSource {
	return &TokenSource{cluster: cluster, sts: sts.NewPresignClient(client), now: time.Now, mask: mask}
}

// Token returns a valid token, signing a new one when the cached one is
// older than the refresh age.
func (t *TokenSource) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.now().Sub(t.created) < tokenRefresh {
		return t.token, nil
	}
	req, err := t.sts.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(po *sts.PresignOptions) {
		po.ClientOptions = append(po.ClientOptions, func(o *sts.Options) {
			// The cluster name is a signed header, so a token for one
			// cluster cannot be replayed against another.
			o.APIOptions = append(o.APIOptions,
				smithyhttp.SetHeaderValue(clusterIDHdr, t.cluster),
				smithyhttp.SetHeaderValue("X-Amz-Expires", "60"))
		})
	})
	if err != nil {
		return "", fmt.Errorf("signing an EKS token for cluster %q: %w", t.cluster, err)
	}
	t.token = tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(req.URL))
	t.created = t.now()
	if t.mask != nil {
		t.mask(t.token)
	}
	return t.token, nil
}

// bearer adds a current token to every request.
type bearer struct {
	next   http.RoundTripper
	tokens *TokenSource
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := b.tokens.Token(req.Context())
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok)
	return b.next.RoundTrip(req)
}
