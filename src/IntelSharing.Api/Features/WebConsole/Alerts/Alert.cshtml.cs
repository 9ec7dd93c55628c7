using System.Text.Json;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Deliveries;
using IntelSharing.Api.Features.Indicators;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntelSharing.Api.Features.WebConsole.Alerts;

/// <summary>
/// An alert's page: the current version and its audience (GET /api/v1/alerts/{id}), its versions (…/versions,
/// originator only), its delivery ledger (…/deliveries, originator and operators), feedback (…/feedback) and the
/// alerts of other agencies that share its indicators (…/correlations, and …/correlations/hidden for the agencies that
/// may not see it, originator only: the hit/no-hit view of docs/sharing.md). Each
/// section is the API's own query, so the sharing policy decides each: an alert the caller may not see is "not
/// found", and a section it may not read says so without telling more.
/// </summary>
[Authorize(Policy = Scopes.AlertsRead)]
public sealed class AlertModel(ConsoleRequests requests) : PageModel
{
    public const int LedgerPageSize = 50;

    public Guid Id { get; private set; }

    public string? Purpose { get; private set; }

    /// <summary>The alert names persons and no purpose was given: the page asks for one, as the API asks for X-Purpose.</summary>
    public bool NeedsPurpose { get; private set; }

    public string? Problem { get; private set; }

    public JsonElement? Current { get; private set; }

    public IReadOnlyList<JsonElement>? Versions { get; private set; }

    public string? VersionsProblem { get; private set; }

    public DeliveryPage? Ledger { get; private set; }

    public string? LedgerProblem { get; private set; }

    public IReadOnlyList<FeedbackView>? Feedback { get; private set; }

    public string? FeedbackProblem { get; private set; }

    public IReadOnlyList<Correlation>? Correlations { get; private set; }

    public string? CorrelationsProblem { get; private set; }

    public IReadOnlyList<HiddenCorrelation>? HiddenCorrelations { get; private set; }

    public string? HiddenCorrelationsProblem { get; private set; }

    public async Task OnGetAsync(Guid id, [FromQuery] string? purpose, [FromQuery] string? ledgerCursor, CancellationToken cancellationToken)
    {
        Id = id;
        Purpose = RequestOrigin.CleanPurpose(purpose);
        if (Purpose is { Length: > AuditWriter.MaxPurposeLength })
        {
            Problem = $"The purpose is at most {AuditWriter.MaxPurposeLength} characters.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var caller = requests.Caller;
        var current = await requests.AskAsync(new GetAlert.Query(caller, id, Purpose),
            new Audited(AuditActions.AlertRead, AuditResources.Alert, id, Purpose), cancellationToken);
        if (current.Failure is { } failure)
        {
            NeedsPurpose = failure.Errors?.ContainsKey(RequestOrigin.PurposeField) == true;
            Problem = failure.Detail;
            Response.StatusCode = failure.Status;
            return;
        }

        Current = JsonDocument.Parse(current.Value!.Document).RootElement.Clone();

        if (caller.Has(Scopes.AlertsWrite))
        {
            var versions = await requests.AskAsync(new ListAlertVersions.Query(caller, id, Purpose, null, $"{KeysetPaging.MaxLimit}"),
                new Audited(AuditActions.AlertVersions, AuditResources.Alert, id, Purpose), cancellationToken);
            VersionsProblem = versions.Failure?.Detail;
            Versions = versions.Value is { } json ? [.. JsonDocument.Parse(json).RootElement.GetProperty("items").Clone().EnumerateArray()] : null;
        }

        var ledger = await requests.AskAsync(new ListDeliveries.Query(caller, null, null, id, ledgerCursor, $"{LedgerPageSize}"),
            new Audited(AuditActions.AlertDeliveries, AuditResources.Alert, id), cancellationToken);
        Ledger = ledger.Value;
        LedgerProblem = ledger.Failure is { Status: StatusCodes.Status404NotFound } ? null : ledger.Failure?.Detail;

        var feedback = await requests.AskAsync(new ListAlertFeedback.Query(caller, id, null, $"{KeysetPaging.MaxLimit}"),
            new Audited(AuditActions.AlertFeedbackList, AuditResources.Alert, id), cancellationToken);
        Feedback = feedback.Value?.Items;
        FeedbackProblem = feedback.Failure?.Detail;

        var correlations = await requests.AskAsync(new ListCorrelations.Query(caller, id, null, $"{KeysetPaging.MaxLimit}", Purpose),
            new Audited(AuditActions.AlertCorrelations, AuditResources.Alert, id, Purpose), cancellationToken);
        Correlations = correlations.Value?.Items;
        CorrelationsProblem = correlations.Failure?.Detail;

        // Only the originator may read which agencies cannot see its alert: asking for anyone else would only put a
        // refused read in the audit trail on every page view.
        if (Text(Current.Value, "originator", "id") == caller.AgencyId.ToString())
        {
            var hidden = await requests.AskAsync(new ListHiddenCorrelations.Query(caller, id, null, $"{KeysetPaging.MaxLimit}", Purpose),
                new Audited(AuditActions.AlertCorrelationsHidden, AuditResources.Alert, id, Purpose), cancellationToken);
            HiddenCorrelations = hidden.Value?.Items;
            HiddenCorrelationsProblem = hidden.Failure?.Detail;
        }
    }

    /// <summary>The indicators two alerts share, as "type value" pairs.</summary>
    public static string Shared(IReadOnlyList<IndicatorRef> indicators) =>
        string.Join(", ", indicators.Select(i => $"{IntelSharing.Api.Infrastructure.Json.WireNames.Of(i.Type)} {i.Value}"));

    /// <summary>A text property of the current version, or a dash.</summary>
    public static string Text(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return "—";
            }
        }

        return element.ValueKind switch
        {
            JsonValueKind.String => element.GetString()!,
            JsonValueKind.Number => element.GetRawText(),
            _ => "—",
        };
    }

    /// <summary>The names in an array of agency (or sharing group) references.</summary>
    public static IReadOnlyList<string> Names(JsonElement element, string property) =>
        element.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array
            ? [.. list.EnumerateArray().Select(item => Text(item, "name"))]
            : [];
}
