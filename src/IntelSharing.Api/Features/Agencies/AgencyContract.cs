using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.OpenApi;

namespace IntelSharing.Api.Features.Agencies;

public sealed record AgencyView(Guid Id, string Name, string Country, AgencyKind Kind, bool IsActive, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>One page of the partner directory; <c>nextCursor</c> is null on the last page.</summary>
public sealed record AgencyPage(IReadOnlyList<AgencyView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

/// <summary>One page of an agency's API keys; <c>nextCursor</c> is null on the last page.</summary>
public sealed record ApiKeyPage(IReadOnlyList<ApiKeyView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

[ListsScopes]
public sealed record ApiKeyView(Guid Id, string Prefix, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt);

/// <summary>A newly issued key. <c>key</c> is shown this once and never again; store it in the partner system's secret store.</summary>
[ListsScopes]
public sealed record IssuedApiKey(Guid Id, string Prefix, string Key, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>
/// The <c>data</c> of an <c>api_key.issued</c> webhook: an operator issued a key to the receiving agency. Everything but
/// the secret: the agency can check the key against what it asked for, and revoke it through the operator if it did not.
/// </summary>
public sealed record ApiKeyIssuedNotice(Guid AgencyId, ApiKeyView Key, AgencyRefView IssuedBy, string? Purpose);

/// <summary>An agency named in a notice.</summary>
public sealed record AgencyRefView(Guid Id, string Name);

public sealed record AgencyInput
{
    /// <summary>e.g. "Ministry of Interior of the Republic of Serbia — Border Police Directorate".</summary>
    [Required] public string? Name { get; init; }

    /// <summary>ISO 3166-1 alpha-2; EU agencies use the country of their seat.</summary>
    [Required] public string? Country { get; init; }

    [Required] public AgencyKind? Kind { get; init; }
}

/// <summary>Changes to an agency (PATCH): the fields sent are changed, fields absent or null are left as they are.</summary>
public sealed record AgencyPatch
{
    public string? Name { get; init; }

    /// <summary>ISO 3166-1 alpha-2.</summary>
    public string? Country { get; init; }

    public AgencyKind? Kind { get; init; }
}

/// <summary>
/// The internal networks (CIDR ranges inside loopback, private, link-local or other refused ranges) this agency's
/// webhooks may reach. Set by operators only; empty means public addresses only. Not part of the partner directory.
/// </summary>
public sealed record AllowedPrivateNetworksView(Guid AgencyId, IReadOnlyList<string> AllowedPrivateNetworks);

public sealed record AllowedPrivateNetworksInput
{
    /// <summary>e.g. ["10.20.0.0/16"]; an empty list removes every allowance. Replaces the whole list.</summary>
    [Required] public IReadOnlyList<string>? AllowedPrivateNetworks { get; init; }
}

[ListsScopes]
public sealed record ApiKeyInput
{
    /// <summary>What the key is for, e.g. "SIS gateway production".</summary>
    [Required] public string? Name { get; init; }

    [Required] public IReadOnlyList<string>? Scopes { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }
}

internal sealed record AgencyRow
{
    public Guid Id { get; init; }

    public string Name { get; init; } = null!;

    public string Country { get; init; } = null!;

    public string Kind { get; init; } = null!;

    public bool IsActive { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public AgencyView ToView() => new(Id, Name, Country, Infrastructure.Json.WireNames.TryParse<AgencyKind>(Kind, out var kind) ? kind : AgencyKind.Police, IsActive, CreatedAt, UpdatedAt);

    public const string Columns = "id AS Id, name AS Name, country AS Country, kind AS Kind, is_active AS IsActive, created_at AS CreatedAt, updated_at AS UpdatedAt";
}
