using System.Globalization;
using System.Text;
using IntelSharing.Api.Features.Statistics;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.PublishedResults;

/// <summary>
/// The figures a ministry can publish: the query of GET /api/v1/statistics (same scope, same suppression, same
/// sharing rule), and its CSV as a download. A GET form: the range is in the address, so a page can be bookmarked.
/// </summary>
[Authorize(Policy = Scopes.StatisticsRead)]
public sealed class PublishedResultsModel(ConsoleRequests requests, TimeProvider time) : PageModel
{
    public StatisticsReport? Report { get; private set; }

    public string? Problem { get; private set; }

    public string From { get; private set; } = string.Empty;

    public string To { get; private set; } = string.Empty;

    public string Period { get; private set; } = "day";

    /// <summary>Without a range: the last 30 days, by day.</summary>
    public async Task OnGetAsync(string? from, string? to, string? period, CancellationToken cancellationToken)
    {
        var result = await AskAsync(from, to, period, cancellationToken);
        Report = result.Value;
        Problem = result.Failure?.Detail;
        if (result.Failure is not null)
        {
            Response.StatusCode = result.Failure.Status;
        }
    }

    public async Task<IActionResult> OnGetCsvAsync(string? from, string? to, string? period, CancellationToken cancellationToken)
    {
        var result = await AskAsync(from, to, period, cancellationToken);
        if (result.Value is not { } report)
        {
            Problem = result.Failure?.Detail;
            Response.StatusCode = result.Failure?.Status ?? StatusCodes.Status400BadRequest;
            return Page();
        }

        return File(Encoding.UTF8.GetBytes(StatisticsCsv.Write(report)), StatisticsCsv.MediaType + "; charset=utf-8", StatisticsCsv.FileName(report));
    }

    public string CsvLink => $"/console/published-results?handler=Csv&from={Uri.EscapeDataString(From)}&to={Uri.EscapeDataString(To)}&period={Uri.EscapeDataString(Period)}";

    public static string Count(long? count, int minimum) =>
        count is { } value ? value.ToString(CultureInfo.InvariantCulture) : $"<{minimum.ToString(CultureInfo.InvariantCulture)}";

    private Task<Result<StatisticsReport>> AskAsync(string? from, string? to, string? period, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        To = to ?? today.ToString(ReadStatistics.DateFormat, CultureInfo.InvariantCulture);
        From = from ?? today.AddDays(-29).ToString(ReadStatistics.DateFormat, CultureInfo.InvariantCulture);
        Period = period ?? "day";
        return requests.AskPlainAsync(new ReadStatistics.Query(requests.Caller, From, To, Period),
            new Audited(AuditActions.StatisticsRead, AuditResources.Statistics), cancellationToken);
    }
}
