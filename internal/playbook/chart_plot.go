package playbook

import (
	"bytes"
	"fmt"
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/holdfast/holdfast/blocks"
)

var (
	atRiskBlue = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	savedGreen = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	lostRed    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// moneyTicks label the ARR axis as the bot writes money ($1.2M).
type moneyTicks struct{}

func (moneyTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = blocks.Money(ts[i].Value)
		}
	}
	return ts
}

// monthTicks mark the first of each month on a time axis of Unix seconds
// (gonum's TimeTicks put round numbers of seconds under month names).
type monthTicks struct{ loc *time.Location }

func (t monthTicks) Ticks(lo, hi float64) []plot.Tick {
	first := time.Unix(int64(lo), 0).In(t.loc)
	m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, t.loc)
	if m.Before(first) {
		m = m.AddDate(0, 1, 0)
	}
	var out []plot.Tick
	for ; float64(m.Unix()) <= hi; m = m.AddDate(0, 1, 0) {
		out = append(out, plot.Tick{Value: float64(m.Unix()), Label: m.Format("Jan 2006")})
	}
	return out
}

// chartPNG draws the daily at-risk ARR as a line, and each month's saves
// (▲, green) and losses (■, red) at the middle of the month, labelled.
func chartPNG(c chartData, loc *time.Location) ([]byte, error) {
	p := plot.New()
	p.Title.Text = "At-risk ARR, " + c.Start.Format("Jan 2006") + " – " + c.Label()
	p.Y.Label.Text = "ARR"
	p.X.Tick.Marker = monthTicks{loc: loc}
	p.Y.Tick.Marker = moneyTicks{}
	p.Y.Min = 0
	top := 1.0
	line := make(plotter.XYs, len(c.Days))
	for i, d := range c.Days {
		line[i].X, line[i].Y = float64(d.Day.Unix()), d.ARR
		top = max(top, d.ARR)
	}
	saved := make(plotter.XYs, 0, len(c.Months))
	lost := make(plotter.XYs, 0, len(c.Months))
	var savedText, lostText []string
	for _, m := range c.Months {
		mid := float64(m.Start.AddDate(0, 0, 14).Unix())
		if m.Saved > 0 {
			saved = append(saved, plotter.XY{X: mid, Y: m.Saved})
			savedText = append(savedText, "+"+blocks.Money(m.Saved))
		}
		if m.Lost > 0 {
			lost = append(lost, plotter.XY{X: mid, Y: m.Lost})
			lostText = append(lostText, "−"+blocks.Money(m.Lost))
		}
		top = max(top, m.Saved, m.Lost)
	}
	p.Y.Max = top * 1.15
	p.X.Min, p.X.Max = float64(c.Start.Unix()), float64(c.End.Unix())
	if len(line) > 0 {
		l, err := plotter.NewLine(line)
		if err != nil {
			return nil, fmt.Errorf("at-risk line: %w", err)
		}
		l.Color, l.Width = atRiskBlue, vg.Points(2)
		p.Add(l)
		p.Legend.Add("ARR in open playbooks (daily)", l)
	}
	for _, s := range []struct {
		pts   plotter.XYs
		texts []string
		col   color.Color
		shape draw.GlyphDrawer
		name  string
	}{
		{saved, savedText, savedGreen, draw.PyramidGlyph{}, "Saved: recovered ARR (monthly)"},
		{lost, lostText, lostRed, draw.BoxGlyph{}, "Lost: churned ARR (monthly)"},
	} {
		if len(s.pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.pts)
		if err != nil {
			return nil, fmt.Errorf("chart marks: %w", err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: s.col, Radius: vg.Points(5), Shape: s.shape}
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: s.pts, Labels: s.texts})
		if err != nil {
			return nil, fmt.Errorf("chart labels: %w", err)
		}
		for i := range labels.TextStyle {
			labels.TextStyle[i].Color = s.col
		}
		labels.Offset = vg.Point{X: vg.Points(7), Y: vg.Points(-4)}
		p.Add(sc, labels)
		p.Legend.Add(s.name, sc)
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())

	const w, h = 10 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(w, h)
	p.Draw(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}
