using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Text.Json.Serialization;
using Dapper;
using FluentValidation;
using IntelSharing.Api.Domain;
using Dispatch = IntelSharing.Api.Features.Deliveries.Dispatch;
using IntelSharing.Api.Infrastructure.Delivery;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.OpenApi;
using IntelSharing.Api.Infrastructure.Problems;
using Severity = IntelSharing.Api.Domain.Severity;
using IntelSharing.Api.Infrastructure.Validation;

namespace IntelSharing.Api.Features.Subscriptions;

/// <summary>A partner endpoint and the alerts it wants. Empty lists mean "all".</summary>
public sealed record SubscriptionInput
{
    /// <summary>The HTTPS endpoint that receives signed webhooks.</summary>
    [Required] public string? Url { get; init; }

    public string? Description { get; init; }

    /// <summary>Categories to receive; empty or absent: all.</summary>
    public IReadOnlyList<AlertCategory>? Categories { get; init; }

    /// <summary>Lowest severity to receive; absent: low.</summary>
    public Severity? MinSeverity { get; init; }

    /// <summary>Receive alerts concerning any of these countries (ISO 3166-1 alpha-2); empty or absent: all.</summary>
    public IReadOnlyList<string>? Countries { get; init; }

    /// <summary>Also receive the alerts your own agency publishes (e.g. to mirror everything into one system).</summary>
    public bool? IncludeOwnAlerts { get; init; }

    /// <summary>
    /// Event types to receive, of alert.published, alert.updated, alert.feedback, alert.correlated, alert.correlation_hidden,
    /// api_key.issued; empty or absent: all. alert.revoked and alert.expired always reach a subscription that was sent the alert.
    /// </summary>
    [ClosedSet(typeof(Dispatch.EventTypes), nameof(Dispatch.EventTypes.Choosable))]
    public IReadOnlyList<string>? EventTypes { get; init; }
}

/// <summary>One page of your subscriptions; <c>nextCursor</c> is null on the last page.</summary>
public sealed record SubscriptionPage(IReadOnlyList<SubscriptionView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

public sealed record SubscriptionView
{
    public required Guid Id { get; init; }

    public required Guid AgencyId { get; init; }

    public required string Url { get; init; }

    public required string Description { get; init; }

    public required IReadOnlyList<AlertCategory> Categories { get; init; }

    public required Severity MinSeverity { get; init; }

    public required IReadOnlyList<string> Countries { get; init; }

    public required bool IncludeOwnAlerts { get; init; }

    /// <summary>The event types chosen; empty: all.</summary>
    [ClosedSet(typeof(Dispatch.EventTypes), nameof(Dispatch.EventTypes.Choosable))]
    public required IReadOnlyList<string> EventTypes { get; init; }

    /// <summary>active, paused, or disabled (the endpoint answered 410 Gone).</summary>
    [ClosedSet(typeof(SubscriptionStatuses))]
    public required string Status { get; init; }

    public string? StatusReason { get; init; }

    /// <summary>Until when rotated-out signing secrets still sign beside the current one: the end of the last rotation's overlap (each older secret's overlap ends earlier, 24 h after its own rotation).</summary>
    public DateTimeOffset? PreviousSecretValidUntil { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>The statuses a subscription shows (a deleted one is no longer shown).</summary>
public static class SubscriptionStatuses
{
    public const string Active = "active";
    public const string Paused = "paused";
    public const string Disabled = "disabled";
}

/// <summary>A subscription with its signing secret, returned once at creation and at rotation. Store the secret now.</summary>
public sealed record SubscriptionWithSecret(SubscriptionView Subscription, string Secret);

internal sealed record SubscriptionRow
{
    public const string Columns =
        "id AS Id, agency_id AS AgencyId, url AS Url, description AS Description, categories AS Categories, " +
        "min_severity_rank AS MinSeverityRank, countries AS Countries, include_own_alerts AS IncludeOwnAlerts, event_types AS EventTypes, status AS Status, " +
        "status_reason AS StatusReason, previous_secret_expires_at AS PreviousSecretExpiresAt, created_at AS CreatedAt, updated_at AS UpdatedAt";

    public Guid Id { get; init; }

    public Guid AgencyId { get; init; }

    public string Url { get; init; } = string.Empty;

    public string Description { get; init; } = string.Empty;

    public string Categories { get; init; } = string.Empty;

    public int MinSeverityRank { get; init; }

    public string Countries { get; init; } = string.Empty;

    public bool IncludeOwnAlerts { get; init; }

    public string EventTypes { get; init; } = string.Empty;

    public string Status { get; init; } = string.Empty;

    public string? StatusReason { get; init; }

    public DateTimeOffset? PreviousSecretExpiresAt { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public SubscriptionView ToView(DateTimeOffset now) => new()
    {
        Id = Id,
        AgencyId = AgencyId,
        Url = Url,
        Description = Description,
        Categories = Categories.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(c => WireNames.TryParse<AlertCategory>(c, out var category) ? category : default).ToList(),
        MinSeverity = (Severity)Math.Max(1, MinSeverityRank),
        Countries = Countries.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        IncludeOwnAlerts = IncludeOwnAlerts,
        EventTypes = EventTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        Status = Status,
        StatusReason = StatusReason,
        PreviousSecretValidUntil = PreviousSecretExpiresAt > now ? PreviousSecretExpiresAt : null,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
    };

    /// <summary>The caller's own subscription, or null: another agency's subscription is as good as absent.</summary>
    public static Task<SubscriptionRow?> FindOwnAsync(DbConnection connection, Guid id, Guid agencyId, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<SubscriptionRow>(new CommandDefinition(
            $"SELECT {Columns} FROM subscriptions WHERE id = @id AND agency_id = @agencyId AND status <> 'deleted'",
            new { id, agencyId }, cancellationToken: cancellationToken));
}

/// <summary>The rules for a subscription body, shared by create and update.</summary>
public sealed class SubscriptionInputValidator : AbstractValidator<SubscriptionInput>
{
    public const int MaxCountries = 60;
    public const int MaxCategories = 2;
    public static readonly int MaxEventTypes = Dispatch.EventTypes.Choosable.Count;

    public SubscriptionInputValidator(OutboundAddressPolicy outbound)
    {
        RuleFor(s => s.Url).NotEmpty().MaximumLength(2000)
            .SingleLineText();
        // The address of an IP-literal URL is judged by the handler, against the agency's own allowance.
        RuleFor(s => s.Url).Must(url => outbound.CheckUrlForm(url) is null).When(s => !string.IsNullOrEmpty(s.Url))
            .WithMessage((_, url) => outbound.CheckUrlForm(url)!);
        RuleFor(s => s.Description).MaximumLength(500)
            .MultiLineText();
        RuleFor(s => s.Categories).Cascade(CascadeMode.Stop).AtMost(MaxCategories, "categories").Unique("Categories");
        RuleFor(s => s.Countries).Cascade(CascadeMode.Stop).AtMost(MaxCountries, "countries").Unique("Countries");
        RuleFor(s => s.EventTypes).Cascade(CascadeMode.Stop).AtMost(MaxEventTypes, "eventTypes").Unique("EventTypes");
        When(s => ListRules.IsWithin(s.EventTypes, MaxEventTypes), () =>
            RuleForEach(s => s.EventTypes).Must(t => Dispatch.EventTypes.Choosable.Contains(t))
                .WithMessage($"'{{PropertyValue}}' is not an event type a subscription chooses: {string.Join(", ", Dispatch.EventTypes.Choosable)} " +
                    $"({Dispatch.EventTypes.AlertRevoked} and {Dispatch.EventTypes.AlertExpired} always come)."));
        When(s => ListRules.IsWithin(s.Countries, MaxCountries), () =>
            RuleForEach(s => s.Countries).Must(Countries.IsValid).WithMessage("'{PropertyValue}' is not an ISO 3166-1 alpha-2 country code (upper case, e.g. RS)."));
    }

    /// <summary>
    /// Refuses an IP-literal endpoint the agency may not reach (loopback, private, … not allowed for it), as a 400 naming
    /// url. Host names are judged at every connection, since what they resolve to can change.
    /// </summary>
    public static async Task<Failure?> CheckDestinationAsync(
        OutboundAddressPolicy outbound, DbConnection connection, DbTransaction transaction, Guid agencyId, string url, CancellationToken cancellationToken)
    {
        var allowance = AllowedNetworks.FromColumn(await Agencies.GetAllowedPrivateNetworks.LoadAsync(connection, transaction, agencyId, cancellationToken));
        return outbound.CheckDestination(new Uri(url.Trim()), allowance) is { } refused ? Failure.Invalid("url", refused) : null;
    }

    public static object ToColumns(SubscriptionInput input) => new
    {
        Url = input.Url!.Trim(),
        Authority = new Uri(input.Url!.Trim()).GetLeftPart(UriPartial.Authority),
        Description = input.Description?.Trim() ?? string.Empty,
        Categories = string.Join(' ', (input.Categories ?? []).Select(WireNames.Of)),
        MinSeverityRank = (int)(input.MinSeverity ?? Severity.Low),
        Countries = string.Join(' ', input.Countries ?? []),
        IncludeOwnAlerts = input.IncludeOwnAlerts ?? false,
        EventTypes = string.Join(' ', input.EventTypes ?? []),
    };
}
