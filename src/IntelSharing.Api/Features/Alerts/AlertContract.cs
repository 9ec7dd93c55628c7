using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using IntelSharing.Api.Domain;

using IntelSharing.Api.Features.Sharing;
namespace IntelSharing.Api.Features.Alerts;

// The alert as clients send it (AlertInput) and as IntelSharing returns and delivers it (AlertView).
// Input properties are nullable so that a missing field is reported by the validator with its name,
// rather than failing deserialisation on the first one; [Required] tells the OpenAPI document the truth.

/// <summary>An alert as submitted or updated by its originator.</summary>
public sealed record AlertInput
{
    [Required] public AlertCategory? Category { get; init; }

    /// <summary>One line, at most 200 characters.</summary>
    [Required] public string? Title { get; init; }

    /// <summary>What is known, at most 8,000 characters.</summary>
    [Required] public string? Summary { get; init; }

    [Required] public Severity? Severity { get; init; }

    /// <summary>TLP 2.0 marking; decides the audience.</summary>
    [Required] public Tlp? Tlp { get; init; }

    [Required] public Handling? Handling { get; init; }

    [Required] public Evaluation? Evaluation { get; init; }

    [Required] public Basis? Basis { get; init; }

    /// <summary>ISO 3166-1 alpha-2 codes of the countries concerned (at least one).</summary>
    [Required] public IReadOnlyList<string>? Countries { get; init; }

    /// <summary>Who may receive it: named agencies and/or sharing groups. Required for amber+strict and red; optional for amber (absent: all partners).</summary>
    public AudienceInput? Audience { get; init; }

    /// <summary>Required when the category is migrant_smuggling, absent otherwise.</summary>
    public SmugglingDetails? Smuggling { get; init; }

    /// <summary>Required when the category is cyber_incident, absent otherwise.</summary>
    public CyberDetails? Cyber { get; init; }

    /// <summary>At most 500.</summary>
    public IReadOnlyList<IndicatorInput>? Indicators { get; init; }

    /// <summary>Natural persons named in the alert. When present, TLP must be amber or stricter and reviewAt and expiresAt are required.</summary>
    public IReadOnlyList<Person>? Persons { get; init; }

    public DateTimeOffset? ObservedAt { get; init; }

    /// <summary>When the originator must review whether the personal data is still needed.</summary>
    public DateTimeOffset? ReviewAt { get; init; }

    /// <summary>When personal data in the alert is purged.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
}

public sealed record Handling
{
    [Required] public HandlingCode? Code { get; init; }

    /// <summary>Required for H3; optional free text for the others.</summary>
    public string? Conditions { get; init; }
}

/// <summary>Europol 4x4 evaluation.</summary>
public sealed record Evaluation
{
    [Required] public SourceReliability? Source { get; init; }

    [Required] public InformationAssessment? Information { get; init; }
}

public sealed record SmugglingDetails
{
    /// <summary>The route in travel order, e.g. Gevgelija → Preševo → Belgrade → Subotica.</summary>
    public IReadOnlyList<RoutePoint>? Route { get; init; }

    public IReadOnlyList<CrossingPoint>? CrossingPoints { get; init; }

    [Required] public string? ModusOperandi { get; init; }

    public int? EstimatedPeople { get; init; }

    public IReadOnlyList<string>? NetworkNames { get; init; }
}

public sealed record RoutePoint
{
    [Required] public string? Place { get; init; }

    [Required] public string? Country { get; init; }
}

public sealed record CrossingPoint
{
    /// <summary>e.g. Horgoš–Röszke.</summary>
    [Required] public string? Name { get; init; }

    /// <summary>The one or two countries the crossing point joins.</summary>
    [Required] public IReadOnlyList<string>? Countries { get; init; }
}

public sealed record CyberDetails
{
    [Required] public CyberIncidentType? IncidentType { get; init; }

    [Required] public Sector? Sector { get; init; }

    /// <summary>MITRE ATT&amp;CK technique ids, e.g. T1566 or T1566.001.</summary>
    public IReadOnlyList<string>? AttackTechniques { get; init; }

    /// <summary>CVE ids, e.g. CVE-2024-3400.</summary>
    public IReadOnlyList<string>? Cves { get; init; }
}

public sealed record IndicatorInput
{
    [Required] public IndicatorType? Type { get; init; }

    [Required] public string? Value { get; init; }

    public string? Description { get; init; }
}

public sealed record Person
{
    [Required] public string? FullName { get; init; }

    [Required] public DataSubjectCategory? Category { get; init; }

    public DateOnly? DateOfBirth { get; init; }

    /// <summary>ISO 3166-1 alpha-2.</summary>
    public string? Nationality { get; init; }

    public IReadOnlyList<string>? Aliases { get; init; }
}

/// <summary>An alert as IntelSharing returns it and delivers it to partners.</summary>
public sealed record AlertView
{
    public required Guid Id { get; init; }

    public required int Version { get; init; }

    public required AlertStatus Status { get; init; }

    public required AlertCategory Category { get; init; }

    public required string Title { get; init; }

    public required string Summary { get; init; }

    public required Severity Severity { get; init; }

    public required Tlp Tlp { get; init; }

    public required Handling Handling { get; init; }

    public required Evaluation Evaluation { get; init; }

    public required Basis Basis { get; init; }

    public required IReadOnlyList<string> Countries { get; init; }

    public required AgencyRef Originator { get; init; }

    /// <summary>The agencies the audience resolved to when this version was published; empty when none was named.</summary>
    public required IReadOnlyList<AgencyRef> Audience { get; init; }

    /// <summary>The sharing groups the originator named, if any; their members at publication are included in <c>audience</c>.</summary>
    public IReadOnlyList<SharingGroupRef>? AudienceGroups { get; init; }

    public SmugglingDetails? Smuggling { get; init; }

    public CyberDetails? Cyber { get; init; }

    public required IReadOnlyList<IndicatorView> Indicators { get; init; }

    public required IReadOnlyList<Person> Persons { get; init; }

    public DateTimeOffset? ObservedAt { get; init; }

    public DateTimeOffset? ReviewAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

public sealed record IndicatorView
{
    public required IndicatorType Type { get; init; }

    /// <summary>The normalised value (lower-case domains, E.164 phone numbers, compact IBANs…).</summary>
    public required string Value { get; init; }

    /// <summary>The value as submitted, when normalisation changed it.</summary>
    public string? Submitted { get; init; }

    public string? Description { get; init; }
}

/// <summary>A page of alerts, oldest change first; pass <c>nextCursor</c> back as <c>cursor</c> for the next page.</summary>
public sealed record AlertPage(IReadOnlyList<AlertView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

public static class AlertViews
{
    /// <summary>Builds the published representation of a version from the validated input.</summary>
    public static AlertView Build(
        Guid id, int version, AlertInput input, AgencyRef originator, IReadOnlyList<AgencyRef> audience,
        DateTimeOffset createdAt, DateTimeOffset updatedAt) => new()
        {
            Id = id,
            Version = version,
            Status = AlertStatus.Active,
            Category = input.Category!.Value,
            Title = input.Title!.Trim(),
            Summary = input.Summary!,
            Severity = input.Severity!.Value,
            Tlp = input.Tlp!.Value,
            Handling = input.Handling!,
            Evaluation = input.Evaluation!,
            Basis = input.Basis!.Value,
            Countries = input.Countries!,
            Originator = originator,
            Audience = audience,
            Smuggling = input.Smuggling,
            Cyber = input.Cyber,
            Indicators = (input.Indicators ?? []).Select(ToView).ToList(),
            Persons = input.Persons ?? [],
            ObservedAt = input.ObservedAt,
            ReviewAt = input.ReviewAt,
            ExpiresAt = input.ExpiresAt,
            CreatedAt = createdAt,
            UpdatedAt = updatedAt,
        };

    private static IndicatorView ToView(IndicatorInput input)
    {
        var outcome = Domain.IndicatorRules.Normalise(input.Type!.Value, input.Value!);
        var normalised = outcome.Normalised ?? input.Value!;
        return new IndicatorView
        {
            Type = input.Type.Value,
            Value = normalised,
            Submitted = string.Equals(normalised, input.Value, StringComparison.Ordinal) ? null : input.Value,
            Description = input.Description,
        };
    }
}

/// <summary>
/// What remains of a revoked or expired alert: who published it and when, and why it is gone. Served in place
/// of the alert and sent (as <c>data</c>) with <c>alert.revoked</c> and <c>alert.expired</c>.
/// </summary>
public sealed record AlertTombstone
{
    public required Guid Id { get; init; }

    public required int Version { get; init; }

    /// <summary>revoked or expired.</summary>
    public required AlertStatus Status { get; init; }

    public required AlertCategory Category { get; init; }

    public required AgencyRef Originator { get; init; }

    public required string Reason { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A recipient's answer to an alert (POST /api/v1/alerts/{id}/feedback): received, hit, actioned or false_positive, with a note.</summary>
public sealed record FeedbackInput
{
    [Required] public FeedbackKind? Kind { get; init; }

    /// <summary>At most 2,000 characters.</summary>
    public string? Note { get; init; }
}

/// <summary>One page of feedback on an alert; <c>nextCursor</c> is null on the last page.</summary>
public sealed record FeedbackPage(IReadOnlyList<FeedbackView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

/// <summary>One agency's feedback on one version of an alert, as its originator and the agency itself see it.</summary>
public sealed record FeedbackView
{
    public required Guid Id { get; init; }

    public required Guid AlertId { get; init; }

    public required int AlertVersion { get; init; }

    public required AgencyRef Agency { get; init; }

    public required FeedbackKind Kind { get; init; }

    public string? Note { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
