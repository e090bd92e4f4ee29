using Lethe.Client;
using ScottPlot;

namespace Lethe.Server.Portal.Labs;

/// Seed 002's two cost charts, drawn by ScottPlot as SVG on the server: nothing to fetch at run time.
public static class LabCharts
{
    private static readonly Color[] Palette = [Color.FromHex("#9aa5b1"), Color.FromHex("#5b8db8"), Color.FromHex("#1f4e79")];

    /// The estimated cost trend: the current month's cumulative cost by day against the previous months'.
    public static string Trend(LabCostReport report, int width = 640, int height = 320)
    {
        ArgumentNullException.ThrowIfNull(report);
        var plot = new Plot();
        for (var i = 0; i < report.Trend.Count; i++)
        {
            var month = report.Trend[i];
            if (month.CumulativeByDay.Count == 0)
            {
                continue;
            }
            var xs = Enumerable.Range(1, month.CumulativeByDay.Count).Select(d => (double)d).ToArray();
            var ys = month.CumulativeByDay.Select(c => (double)c).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = month.Month == report.Month ? month.Month + " (this month)" : month.Month;
            line.Color = Palette[Math.Min(i + Palette.Length - report.Trend.Count, Palette.Length - 1)];
            line.LineWidth = month.Month == report.Month ? 3 : 2;
            line.MarkerSize = 0;
        }
        plot.Title("Cumulative cost by day of month");
        plot.XLabel("Day of month");
        plot.YLabel("Cost (" + report.Currency + ")");
        plot.Axes.SetLimitsX(1, 31);
        plot.Axes.Bottom.Min = 1;
        plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetSvgXml(width, height);
    }

    /// The month-to-date cost by resource, largest first.
    public static string ByResource(LabCostReport report, int width = 640, int height = 320)
    {
        ArgumentNullException.ThrowIfNull(report);
        var plot = new Plot();
        var rows = report.ByResource.Take(12).ToList();
        // Largest at the top: horizontal bars keep long resource names readable.
        var bars = rows.Select((r, i) => new Bar { Position = rows.Count - 1 - i, Value = (double)r.Cost, FillColor = Palette[^1] }).ToArray();
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i)).ToArray(), rows.Select(r => r.ResourceName).ToArray());
        plot.Axes.Margins(left: 0);
        plot.Title("Month-to-date cost by resource");
        plot.XLabel("Cost (" + report.Currency + ")");
        return plot.GetSvgXml(width, height);
    }
}
