using System.Globalization;
using System.Net;
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
            // The current month is marked day by day: on its first day it is a single point, which a line
            // without markers would not draw at all.
            line.MarkerSize = month.Month == report.Month ? 5 : 0;
        }
        plot.Title("Cumulative cost by day of month");
        plot.XLabel("Day of month");
        plot.YLabel("Cost (" + report.Currency + ")");
        plot.Axes.SetLimitsX(1, 31);
        plot.Axes.Bottom.Min = 1;
        plot.ShowLegend(Alignment.UpperLeft);
        return Named(plot.GetSvgXml(width, height), TrendName(report));
    }

    /// The trend's accessible name: what a screen reader says instead of the picture.
    public static string TrendName(LabCostReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return "Estimated cost trend, cumulative cost by day of month: "
            + string.Join("; ", report.Trend.Select(t => $"{t.Month}{(t.Month == report.Month ? " (this month)" : "")}: {Money(t.Total)} {report.Currency}"));
    }

    /// The cost by resource's accessible name.
    public static string ByResourceName(LabCostReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.ByResource.Count == 0
            ? "Estimated month-to-date cost by resource: no costs this month"
            : "Estimated month-to-date cost by resource: " + string.Join("; ", report.ByResource.Select(r => $"{r.ResourceName}: {Money(r.Cost)} {report.Currency}"));
    }

    private static string Money(decimal amount) => amount.ToString("N2", CultureInfo.InvariantCulture);

    /// Gives the SVG an accessible name: role img, aria-label and a title element (read by screen readers
    /// and shown as a tooltip).
    internal static string Named(string svg, string name)
    {
        var open = svg.IndexOf("<svg", StringComparison.Ordinal);
        var end = open < 0 ? -1 : svg.IndexOf('>', open);
        if (end < 0)
        {
            return svg;
        }
        var label = WebUtility.HtmlEncode(name);
        var selfClosing = svg[end - 1] == '/';
        var head = svg[..(selfClosing ? end - 1 : end)] + $" role=\"img\" aria-label=\"{label}\"";
        return selfClosing
            ? head + $"><title>{label}</title></svg>" + svg[(end + 1)..]
            : head + $"><title>{label}</title>" + svg[(end + 1)..];
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
        return Named(plot.GetSvgXml(width, height), ByResourceName(report));
    }
}
