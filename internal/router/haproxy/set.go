package haproxy

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// Set gives each server the weight that makes w: raises first, then
// lowers, so that some server carries weight at every moment. Servers
// already at their weight are not written.
//
// On a backend with cookie persistence, weight 0 is not enough: HAProxy
// still sends a server at weight 0 (or in drain) every client whose
// cookie names it. So a color given 0% is put in maintenance once its
// weights are down, which sends those clients to the other color (and
// gives them its cookie), and a color given traffic again is taken out of
// maintenance before its weights go up.
func (r *Router) Set(ctx context.Context, w router.Weights) error {
	list, err := r.servers(ctx, r.backend)
	if err != nil {
		return err
	}
	p, err := r.cookies(ctx)
	if err != nil {
		return err
	}
	now := weightsOf(list)
	var wake, raise, lower, retire []string
	woken := map[string]bool{}
	for _, s := range list {
		// A color coming back from 0% has all its servers put back in
		// service; a maintenance of some servers of a color that serves
		// is someone else's and stays.
		if s.Color != color.None && s.Maint && w[s.Color] > 0 && now[s.Color] == 0 {
			wake = append(wake, s.Name)
			woken[s.Name] = true
		}
	}
	want := targetWeights(list, w, woken)
	for _, s := range list {
		t, ok := want[s.Name]
		switch {
		case !ok || t == s.Weight:
		case t > s.Weight:
			raise = append(raise, s.Name)
		default:
			lower = append(lower, s.Name)
		}
		if p.name != "" && s.Color != color.None && w[s.Color] <= 0 && !s.Maint {
			retire = append(retire, s.Name)
		}
	}
	for _, name := range wake {
		if err := r.do(ctx, "set server "+r.backend+"/"+name+" state ready", "putting %s/%s back in service", name); err != nil {
			return err
		}
	}
	for _, name := range append(raise, lower...) {
		if err := r.setWeight(ctx, name, want[name]); err != nil {
			return err
		}
	}
	for _, name := range retire {
		if err := r.do(ctx, "set server "+r.backend+"/"+name+" state maint", "putting %s/%s in maintenance, so that no cookie keeps clients on it", name); err != nil {
			return err
		}
	}
	r.split = w.Split()
	return nil
}

// do runs a command that answers nothing when it works; doing (a format
// taking the backend and the server) says what it was for.
func (r *Router) do(ctx context.Context, cmd, doing, server string) error {
	out, err := r.api.Do(ctx, cmd)
	if err != nil {
		return fmt.Errorf(doing+": %w", r.backend, server, err)
	}
	if out = strings.TrimSpace(out); out != "" {
		return fmt.Errorf(doing+": HAProxy answered %q", r.backend, server, out)
	}
	return nil
}

func (r *Router) setWeight(ctx context.Context, server string, weight int) error {
	cmd := "set weight " + r.backend + "/" + server + " " + strconv.Itoa(weight)
	return r.do(ctx, cmd, "setting the weight of %s/%s to "+strconv.Itoa(weight), server)
}

// targetWeights returns the weight of each colored server that makes w.
// All traffic to a color gives its servers their full weight (the one the
// configuration gives, or the backend's highest when that is 0). A split
// gives each color's servers in service (those not in maintenance, or
// woken) equal weights whose sum is the color's share; a server left in
// maintenance keeps its weight, which carries no traffic.
func targetWeights(list []Server, w router.Weights, woken map[string]bool) map[string]int {
	serving := func(s Server) bool { return !s.Maint || woken[s.Name] }
	count := map[color.Color]int{}
	full := 0
	for _, s := range list {
		if serving(s) {
			count[s.Color]++
		}
		full = max(full, s.InitialWeight)
	}
	if full == 0 {
		full = 1
	}
	// scale is the weight of one percent, as high as keeps every server
	// within HAProxy's maximum, for the finest split.
	scale := math.Inf(1)
	for _, c := range color.All {
		if p := w[c]; p > 0 && p < 100 && count[c] > 0 {
			scale = math.Min(scale, float64(maxWeight*count[c])/float64(p))
		}
	}
	out := map[string]int{}
	for _, s := range list {
		if s.Color == color.None {
			continue
		}
		switch p := w[s.Color]; {
		case p <= 0:
			out[s.Name] = 0
		case !serving(s):
		case p >= 100:
			out[s.Name] = s.InitialWeight
			if out[s.Name] == 0 {
				out[s.Name] = full
			}
		default:
			out[s.Name] = max(1, int(math.Round(float64(p)*scale/float64(count[s.Color]))))
		}
	}
	return out
}
