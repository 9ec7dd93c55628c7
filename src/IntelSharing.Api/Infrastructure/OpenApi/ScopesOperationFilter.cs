using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Says on every operation which API key scope it needs: a security requirement naming the scope(s) (one requirement
/// per alternative) and a sentence in the description. Read from the authorization policy the endpoint really uses,
/// so the document cannot claim a scope the server does not check. OpenAPI 3.0 reserves scope lists for OAuth2; 3.1
/// allows them for any scheme ("role names"), and tools that do not know that ignore them (ADR 0029).
/// </summary>
public sealed class ScopesOperationFilter(IOptions<AuthorizationOptions> authorization) : IOperationFilter
{
    public const string SchemeName = "bearer";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security = [];
            return;
        }

        var scopes = RequiredScopes(metadata.OfType<IAuthorizeData>());
        var scheme = new OpenApiSecuritySchemeReference(SchemeName, context.Document);
        operation.Security = scopes.Count == 0
            ? [new OpenApiSecurityRequirement { [scheme] = [] }]
            : [.. scopes.Select(scope => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = [scope] })];
        var sentence = scopes.Count switch
        {
            0 => "Any valid API key may call this.",
            1 => $"Requires an API key with the `{scopes[0]}` scope.",
            _ => $"Requires an API key with one of the scopes {string.Join(" or ", scopes.Select(s => $"`{s}`"))}.",
        };
        operation.Description = string.IsNullOrWhiteSpace(operation.Description) ? sentence : $"{operation.Description.TrimEnd()}\n\n{sentence}";
    }

    /// <summary>The scopes of the endpoint's policies: any one of them is enough (a policy names several as alternatives).</summary>
    private List<string> RequiredScopes(IEnumerable<IAuthorizeData> authorizeData) =>
        [.. authorizeData
            .Select(data => data.Policy is { } name ? authorization.Value.GetPolicy(name) : null)
            .SelectMany(policy => policy?.Requirements.OfType<ClaimsAuthorizationRequirement>() ?? [])
            .Where(requirement => requirement.ClaimType == Security.Caller.ScopeClaim)
            .SelectMany(requirement => requirement.AllowedValues ?? [])
            .Distinct(StringComparer.Ordinal)];
}
