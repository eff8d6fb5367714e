package registry

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// repositoryName is ECR's pattern for repository names, which are also
// 2 to 256 characters long.
var repositoryName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// ecrHost matches an ECR registry host and captures the account and the
// region: <account>.dkr.ecr.<region>.amazonaws.com, with the FIPS,
// China (.com.cn) and dual-stack (dkr-ecr.<region>.on.aws) variants.
var ecrHost = regexp.MustCompile(`^([0-9]{12})\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|on\.aws)$`)

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-[0-9]+$`)
)

// Target is the ECR repository an image is promoted to.
type Target struct {
	// Host is the registry, "<account>.dkr.ecr.<region>.amazonaws.com". It
	// is empty when the repository was named alone and the account was not
	// known: the registry is then the caller's default one, whose host
	// ECRAuth returns.
	Host string
	// Account and Region are those of Host, when known.
	Account string
	Region  string
	// Repository is the repository's name in the registry.
	Repository string
}

// Ref returns the repository reference "host/name", with defaultHost as the
// host when t.Host is empty.
func (t Target) Ref(defaultHost string) string {
	host := t.Host
	if host == "" {
		host = defaultHost
	}
	return host + "/" + t.Repository
}

// ParseTarget validates an ECR repository given by name ("shop",
// "team/shop") or as a full URI ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop").
// region is the AWS region the ECR API is called in; a URI in another
// region is an error, since the repository would be looked up and created
// in the wrong one. accountID, when known, gives a bare name its host.
//
// As in Docker references, a first path element holding a "." or ":" is a
// registry host; a repository whose name starts that way must be given as
// a full URI.
func ParseTarget(ecrRepository, region, accountID string) (Target, error) {
	if region != "" && !regionPattern.MatchString(region) {
		return Target{}, fmt.Errorf("invalid AWS region %q", region)
	}
	if accountID != "" && !accountPattern.MatchString(accountID) {
		return Target{}, fmt.Errorf("invalid AWS account ID %q: must be 12 digits", accountID)
	}
	s := ecrRepository
	switch {
	case s == "":
		return Target{}, errors.New("no ECR repository")
	case strings.Contains(s, "://"):
		return Target{}, fmt.Errorf("ECR repository %q must not include a URL scheme: write it as <account>.dkr.ecr.<region>.amazonaws.com/<name>", s)
	case strings.Contains(s, "@"):
		return Target{}, fmt.Errorf("ECR repository %q must not include a digest: it names a repository, and the digest comes from the source", s)
	}

	t := Target{Account: accountID, Region: region}
	host, rest, found := strings.Cut(s, "/")
	if ecrHost.MatchString(strings.TrimSuffix(s, "/")) {
		return Target{}, fmt.Errorf("ECR repository %q names a registry but no repository: add /<name>", s)
	}
	if found && (strings.ContainsAny(host, ".:") || host == "localhost") {
		m := ecrHost.FindStringSubmatch(host)
		if m == nil {
			return Target{}, fmt.Errorf("ECR repository %q names the registry %q, which is not an ECR registry (<account>.dkr.ecr.<region>.amazonaws.com)", s, host)
		}
		if region != "" && m[2] != region {
			return Target{}, fmt.Errorf("ECR repository %q is in region %q, but the AWS region is %q", s, m[2], region)
		}
		t = Target{Host: host, Account: m[1], Region: m[2]}
		s = rest
	} else if t.Account != "" && t.Region != "" {
		t.Host = defaultECRHost(t.Account, t.Region)
	}

	if strings.Contains(s, ":") {
		return Target{}, fmt.Errorf("ECR repository %q must not include a tag: it names a repository, and tags come from the tags input", ecrRepository)
	}
	if err := ValidateRepositoryName(s); err != nil {
		return Target{}, err
	}
	t.Repository = s
	return t, nil
}

// ValidateRepositoryName checks name against ECR's rules for repository
// names.
func ValidateRepositoryName(name string) error {
	switch {
	case len(name) < 2 || len(name) > 256:
		return fmt.Errorf("invalid ECR repository name %q: must be 2 to 256 characters long, not %d", name, len(name))
	case len(name) > 255:
		// ECR takes 256, but an image reference's repository holds 255.
		return fmt.Errorf("invalid ECR repository name %q: ECR allows 256 characters, but an image reference at most 255", name)
	case !repositoryName.MatchString(name):
		return fmt.Errorf("invalid ECR repository name %q: use lowercase letters and digits, "+
			"separated by single '.', '_' or '-' and grouped by '/' (%s)", name, repositoryName.String())
	}
	return nil
}

// defaultECRHost is the registry host of account in region.
func defaultECRHost(account, region string) string {
	suffix := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return account + ".dkr.ecr." + region + "." + suffix
}

// parseECRHost returns the account and region of an ECR registry host, or
// false for any other host.
func parseECRHost(host string) (account, region string, ok bool) {
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}
