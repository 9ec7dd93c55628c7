using System.Globalization;
using System.Text;

namespace IntelSharing.Api.Features.Statistics;

/// <summary>
/// The published results as one CSV table (RFC 4180), in long form so that every section fits the same columns:
/// <c>section,period,category,country,agency,measure,value</c>. A suppressed count is written <c>&lt;n</c>.
/// </summary>
public static class StatisticsCsv
{
    public const string MediaType = "text/csv";

    public const string Header = "section,period,category,country,agency,measure,value";

    public static string FileName(StatisticsReport report) => $"intelsharing-statistics-{report.From}-{report.To}.csv";

    public static string Write(StatisticsReport report)
    {
        var csv = new StringBuilder(Header).Append("\r\n");
        var suppressed = "<" + report.MinimumCellCount.ToString(CultureInfo.InvariantCulture);
        string Value(long? count) => count is { } c ? c.ToString(CultureInfo.InvariantCulture) : suppressed;
        void Row(string section, string period, string category, string country, string agency, string measure, long? count) =>
            csv.AppendJoin(',', [Field(section), Field(period), Field(category), Field(country), Field(agency), Field(measure), Field(Value(count))]).Append("\r\n");

        foreach (var cell in report.Alerts)
        {
            Row("alerts", cell.Period, cell.Category, cell.Country, "", "published", cell.Count);
        }

        foreach (var total in report.AlertTotals)
        {
            Row("alerts", total.Period, total.Category, "", "", "published_total", total.Count);
        }

        foreach (var partner in report.Deliveries)
        {
            Row("deliveries", "", "", partner.Country, partner.AgencyName, "delivered", partner.Delivered);
            Row("deliveries", "", "", partner.Country, partner.AgencyName, "failed", partner.Failed);
        }

        Row("deliveries", "", "", "", "", "delivered_total", report.DeliveryTotals.Delivered);
        Row("deliveries", "", "", "", "", "failed_total", report.DeliveryTotals.Failed);
        foreach (var partner in report.Feedback)
        {
            Row("feedback", "", "", partner.Country, partner.AgencyName, "hit", partner.Hits);
            Row("feedback", "", "", partner.Country, partner.AgencyName, "actioned", partner.Actioned);
        }

        Row("feedback", "", "", "", "", "hit_total", report.FeedbackTotals.Hits);
        Row("feedback", "", "", "", "", "actioned_total", report.FeedbackTotals.Actioned);
        return csv.ToString();
    }

    /// <summary>Quoted when it must be; a leading = + - @ is defused so that a spreadsheet does not run it as a formula.</summary>
    private static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
