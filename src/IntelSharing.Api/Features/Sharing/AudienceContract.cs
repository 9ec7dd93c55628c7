namespace IntelSharing.Api.Features.Sharing;

// The audience of an alert is the sharing policy's input: Sharing owns these shapes and Alerts uses them in its contract.

public sealed record AudienceInput
{
    /// <summary>Ids of the agencies that may receive the alert.</summary>
    public IReadOnlyList<Guid>? Agencies { get; init; }

    /// <summary>Ids of sharing groups: their active members when the version is published may receive it; later membership changes do not alter that.</summary>
    public IReadOnlyList<Guid>? Groups { get; init; }
}

/// <summary>An agency as alerts name it.</summary>
public sealed record AgencyRef
{
    public required Guid Id { get; init; }

    public required string Name { get; init; }

    /// <summary>ISO 3166-1 alpha-2.</summary>
    public required string Country { get; init; }
}

/// <summary>A sharing group as alerts name it.</summary>
public sealed record SharingGroupRef
{
    public required Guid Id { get; init; }

    public required string Name { get; init; }
}
