using System.Globalization;
using System.Text.Json;
using IntelSharing.Api.Features.Statistics;

namespace IntelSharing.Api.Features.WebConsole;

/// <summary>
/// What one chart shows, handed to the page as a JSON data block (<c>&lt;script type="application/json"&gt;</c>, which
/// the Content Security Policy does not treat as script) that assets/plots.js draws with the vendored uPlot. Every
/// chart sits beside a table of the same numbers, which is what a page without script, or a screen reader, reads.
/// </summary>
/// <param name="Kind"><c>time</c>: x is Unix seconds (UTC); <c>bars</c>: x is 0…n−1, named by <paramref name="Names"/>.</param>
/// <param name="X">The x of every point, shared by the series.</param>
/// <param name="Names">For bars, what each x stands for (an agency's name); null for time.</param>
/// <param name="Units">The y axes' labels by scale name (<c>count</c>, <c>ms</c>).</param>
/// <param name="Series">The lines or bars, in the order the legend lists them.</param>
public sealed record Plot(string Kind, IReadOnlyList<long> X, IReadOnlyList<string>? Names, IReadOnlyDictionary<string, string> Units, IReadOnlyList<PlotSeries> Series)
{
    public const string Time = "time";

    public const string Bars = "bars";

    public const string CountScale = "count";

    public const string MillisecondScale = "ms";

    /// <summary>Countries drawn per category on the published-results chart; the table lists every one.</summary>
    public const int MaxCountrySeries = 8;

    // The default encoder escapes <, > and &, so no value can close the data block's script element.
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>A subscription's last 24 hours: attempts by outcome on the left axis, mean and slowest latency on the right.</summary>
    public static Plot Health(Subscriptions.PartnerHealth health, ConsoleText text) => new(
        Time,
        [.. health.Hours.Select(h => h.Hour.ToUnixTimeSeconds())],
        null,
        new Dictionary<string, string> { [CountScale] = text["Plot.Attempts"], [MillisecondScale] = "ms" },
        [
            new(text["State.delivered"], CountScale, [.. health.Hours.Select(h => (double?)h.Delivered)]),
            new(text["Health.FailedAttempts"], CountScale, [.. health.Hours.Select(h => (double?)h.Failed)]),
            new(text["State.dead"], CountScale, [.. health.Hours.Select(h => (double?)h.Dead)]),
            new(text["Plot.MeanLatency"], MillisecondScale, [.. health.Hours.Select(h => (double?)h.LatencyMeanMs)]),
            new(text["Plot.MaxLatency"], MillisecondScale, [.. health.Hours.Select(h => (double?)h.LatencyMaxMs)]),
        ]);

    /// <summary>
    /// Alerts first published per period, one line per category (its total) or, for one category, per country. A
    /// suppressed count stays a gap (null): drawing it as zero would publish a number the table withholds.
    /// </summary>
    public static Plot AlertFlow(StatisticsReport report, ConsoleText text, string? category)
    {
        var periods = Periods(report);
        var x = periods.Select(p => PeriodStart(p).ToUnixTimeSeconds()).ToList();
        var units = new Dictionary<string, string> { [CountScale] = text["Plot.Alerts"] };
        if (category is null)
        {
            return new Plot(Time, x, null, units, [.. report.AlertTotals.Select(t => t.Category).Distinct().Order(StringComparer.Ordinal)
                .Select(c => new PlotSeries(c, CountScale, [.. periods.Select(p => report.AlertTotals.FirstOrDefault(t => t.Period == p && t.Category == c) is { } total ? total.Count : 0)]))]);
        }

        var cells = report.Alerts.Where(a => a.Category == category).ToList();
        var countries = cells.GroupBy(a => a.Country).OrderByDescending(g => g.Sum(a => a.Count ?? 0)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(MaxCountrySeries).Select(g => g.Key).ToList();
        return new Plot(Time, x, null, units, [.. countries.Select(country => new PlotSeries(country.Length > 0 ? country : "—", CountScale,
            [.. periods.Select(p => cells.FirstOrDefault(a => a.Period == p && a.Country == country) is { } cell ? (double?)cell.Count : 0)]))]);
    }

    /// <summary>Deliveries (delivered, not delivered) and feedback (hits, actioned) per partner agency, as grouped bars.</summary>
    public static Plot Partners(StatisticsReport report, ConsoleText text)
    {
        var agencies = report.Deliveries.Select(d => (d.AgencyId, d.AgencyName)).Union(report.Feedback.Select(f => (f.AgencyId, f.AgencyName)))
            .OrderBy(a => a.AgencyName, StringComparer.Ordinal).ToList();
        double? Delivery(Guid id, Func<PartnerDeliveries, long?> measure) => report.Deliveries.FirstOrDefault(d => d.AgencyId == id) is { } d ? measure(d) : 0;
        double? Feedback(Guid id, Func<PartnerFeedback, long?> measure) => report.Feedback.FirstOrDefault(f => f.AgencyId == id) is { } f ? measure(f) : 0;
        return new Plot(Bars, [.. Enumerable.Range(0, agencies.Count).Select(i => (long)i)], [.. agencies.Select(a => a.AgencyName)],
            new Dictionary<string, string> { [CountScale] = text["Results.Count"] },
            [
                new(text["State.delivered"], CountScale, [.. agencies.Select(a => Delivery(a.AgencyId, d => d.Delivered))]),
                new(text["Results.Failed"], CountScale, [.. agencies.Select(a => Delivery(a.AgencyId, d => d.Failed))]),
                new(text["Results.Hits"], CountScale, [.. agencies.Select(a => Feedback(a.AgencyId, f => f.Hits))]),
                new(text["Results.Actioned"], CountScale, [.. agencies.Select(a => Feedback(a.AgencyId, f => f.Actioned))]),
            ]);
    }

    /// <summary>Every day or month of the report's range, those without alerts too, so that a quiet day reads as zero, not as a line drawn across it.</summary>
    private static List<string> Periods(StatisticsReport report)
    {
        var monthly = report.Period == "month";
        var format = monthly ? "yyyy-MM" : ReadStatistics.DateFormat;
        var first = DateOnly.ParseExact(report.From, ReadStatistics.DateFormat, CultureInfo.InvariantCulture);
        var last = DateOnly.ParseExact(report.To, ReadStatistics.DateFormat, CultureInfo.InvariantCulture);
        var periods = new List<string>();
        for (var at = monthly ? new DateOnly(first.Year, first.Month, 1) : first; at <= last; at = monthly ? at.AddMonths(1) : at.AddDays(1))
        {
            periods.Add(at.ToString(format, CultureInfo.InvariantCulture));
        }

        return periods;
    }

    private static DateTimeOffset PeriodStart(string period) =>
        DateTimeOffset.ParseExact(period.Length == 7 ? period + "-01" : period, ReadStatistics.DateFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal);
}

/// <param name="Label">The legend's name for the series, in the page's language.</param>
/// <param name="Scale"><see cref="Plot.CountScale"/> or <see cref="Plot.MillisecondScale"/>: which y axis the series is read against.</param>
/// <param name="Values">One per x; null is a gap (no data, or a suppressed count).</param>
public sealed record PlotSeries(string Label, string Scale, IReadOnlyList<double?> Values);
