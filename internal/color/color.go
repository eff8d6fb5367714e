// Package color names the two sides of a blue/green deployment.
package color

import "fmt"

// Color is one side of a blue/green deployment.
type Color string

// The two colors. None means no color is live yet (nothing deployed).
const (
	Blue  Color = "blue"
	Green Color = "green"
	None  Color = ""
)

// All lists both colors in a fixed order, for reports and loops.
var All = []Color{Blue, Green}

// Other returns the opposite color. The other color of None is Blue, so a
// first deploy lands on blue.
func (c Color) Other() Color {
	if c == Blue {
		return Green
	}
	return Blue
}

// String returns the color's name, or "none".
func (c Color) String() string {
	if c == None {
		return "none"
	}
	return string(c)
}

// Parse reads a color name.
func Parse(s string) (Color, error) {
	switch Color(s) {
	case Blue, Green:
		return Color(s), nil
	}
	return None, fmt.Errorf("unknown color %q, valid colors are %q", s, []string{"blue", "green"})
}
