using System.Security.Claims;

namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>The authenticated agency behind a request, as established from its API key.</summary>
public sealed record Caller(Guid AgencyId, string AgencyName, string KeyPrefix, IReadOnlySet<string> Scopes)
{
    public const string AgencyIdClaim = "agency_id";
    public const string AgencyNameClaim = "agency_name";
    public const string KeyPrefixClaim = "key_prefix";
    public const string ScopeClaim = "scope";

    public bool Has(string scope) => Scopes.Contains(scope);

    public static Caller From(ClaimsPrincipal principal)
    {
        var agencyId = principal.FindFirstValue(AgencyIdClaim)
            ?? throw new InvalidOperationException("The endpoint requires authentication but no agency is on the principal.");
        return new Caller(
            Guid.Parse(agencyId, System.Globalization.CultureInfo.InvariantCulture),
            principal.FindFirstValue(AgencyNameClaim) ?? string.Empty,
            principal.FindFirstValue(KeyPrefixClaim) ?? string.Empty,
            principal.FindAll(ScopeClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal));
    }
}
