package text

import (
	"fmt"
	"strings"
	"testing"
)

func TestZZNorm(t *testing.T) {
	base := govaderScore()
	for _, set := range vaderSets {
		rows := loadVADER(t, set)
		a := measure(rows, base)
		b := measure(rows, func(s string) float64 { return base(strings.Join(strings.Fields(s), " ")) })
		fmt.Println(set, a, "|", b)
	}
}
