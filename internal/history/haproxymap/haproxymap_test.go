package haproxymap_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/haproxymap"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/haproxy"
)

func TestHistoryInAnHAProxyMap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	app := haproxytest.StartApp(t, "shop:1")
	h := haproxytest.Start(t, haproxytest.Options{HistoryMap: true}, haproxytest.Backend{Name: "web", Servers: []haproxytest.Server{{Name: "blue1", Addr: app.Addr}}})
	api, err := haproxy.Dial(h.AdminAddr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := haproxymap.New(api, h.Dir+"/nosuch.map", "shop").Check(ctx); !errors.Is(err, haproxymap.ErrNoMap) {
		t.Errorf("Check of a map HAProxy does not load = %v, want ErrNoMap", err)
	}
	shop := haproxymap.New(api, h.HistoryMap, "shop")
	if err := shop.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	other := haproxymap.New(api, h.HistoryMap, "shop2")
	if err := other.Append(ctx, history.Entry{Time: time.Now(), Command: "deploy", Color: "blue", Image: "x", Result: "success"}); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < history.Limit+3; i++ {
		e := history.Entry{Time: start.Add(time.Duration(i) * time.Minute), Command: "deploy", Color: "green",
			Image: "shop:1." + string(rune('a'+i%26)), Result: "success", RunURL: "https://ci.example.com/run with space"}
		if err := shop.Append(ctx, e); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	list, err := shop.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(list), history.Limit; got != want {
		t.Fatalf("%d entries kept, want %d", got, want)
	}
	if got, want := list[0].Time, start.Add(time.Duration(history.Limit+2)*time.Minute); !got.Equal(want) {
		t.Errorf("newest entry at %s, want %s", got, want)
	}
	if got, want := list[0].RunURL, "https://ci.example.com/run with space"; got != want {
		t.Errorf("run URL read back as %q", got)
	}
	if l, _ := other.List(ctx); len(l) != 1 {
		t.Errorf("the other app has %d entries, want its own 1", len(l))
	}
}
