package healthmodel

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/holdfast/holdfast/scoring/model"
)

// PlotPNG draws the ROC curve and the calibration plot side by side.
func PlotPNG(p []float64, y []bool, title string) ([]byte, error) {
	roc := plot.New()
	roc.Title.Text = "ROC: " + title
	roc.X.Label.Text, roc.Y.Label.Text = "false positive rate", "true positive rate"
	roc.X.Min, roc.X.Max, roc.Y.Min, roc.Y.Max = 0, 1, 0, 1
	curve := model.ROCCurve(p, y)
	pts := make(plotter.XYs, len(curve))
	for i, c := range curve {
		pts[i].X, pts[i].Y = c.FPR, c.TPR
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, fmt.Errorf("roc line: %w", err)
	}
	line.Color = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	line.Width = vg.Points(2)
	roc.Add(line, diagonal())
	roc.Legend.Add(fmt.Sprintf("AUC %.3f", model.ROCAUC(p, y)), line)
	roc.Legend.Left, roc.Legend.Top = false, false

	cal := plot.New()
	cal.Title.Text = "Calibration (deciles)"
	cal.X.Label.Text, cal.Y.Label.Text = "predicted churn probability", "observed churn rate"
	cal.X.Min, cal.Y.Min = 0, 0
	bins := model.CalibrationTable(p, y, 10)
	cpts := make(plotter.XYs, len(bins))
	top := 0.05
	for i, b := range bins {
		cpts[i].X, cpts[i].Y = b.Predicted, b.Observed
		top = max(top, b.Predicted, b.Observed)
	}
	cal.X.Max, cal.Y.Max = top*1.05, top*1.05
	cline, cdots, err := plotter.NewLinePoints(cpts)
	if err != nil {
		return nil, fmt.Errorf("calibration line: %w", err)
	}
	cline.Color, cdots.Color = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	cal.Add(cline, cdots, diagonal())

	const w, h = 12 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{roc, cal}}, tiles, dc)
	roc.Draw(canvases[0][0])
	cal.Draw(canvases[0][1])
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

func diagonal() *plotter.Line {
	l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	l.Color = color.Gray{Y: 0xa0}
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	return l
}
