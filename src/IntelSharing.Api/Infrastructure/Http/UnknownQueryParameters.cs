using System.Collections.Frozen;
using System.Reflection;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.AspNetCore.Http.Metadata;

namespace IntelSharing.Api.Infrastructure.Http;

/// <summary>
/// Refuses a query parameter that the endpoint does not declare, with a 400 naming it, as the JSON options refuse an
/// unknown body property: a misspelt filter (<c>?catgory=cyber_incident</c>) would otherwise be ignored and answer
/// with everything. What an endpoint declares is read from its handler's parameters, the same ones that bind and that
/// the OpenAPI document lists, so there is no second list to keep in step. Applied once, to every route of the API
/// (<see cref="Features.Routes"/>); an endpoint whose clients expect errors in another format (TAXII) says how to
/// answer with <see cref="UnknownQueryParameterAnswer"/> metadata.
/// </summary>
public static class UnknownQueryParameters
{
    /// <summary>Names reported in one answer, at most; a request with thousands of stray parameters gets the first few.</summary>
    public const int MaxReported = 10;

    private const int MaxNameEcho = 100;

    public static EndpointFilterDelegate Refuse(EndpointFilterFactoryContext factory, EndpointFilterDelegate next)
    {
        var declared = Declared(factory.MethodInfo);
        return async context =>
        {
            var query = context.HttpContext.Request.Query;
            if (query.Count == 0)
            {
                return await next(context);
            }

            var routeValues = context.HttpContext.Request.RouteValues;
            var unknown = query.Keys.Where(name => !declared.Accepts(name, routeValues)).Take(MaxReported).ToList();
            if (unknown.Count == 0)
            {
                return await next(context);
            }

            var accepted = declared.Explicit.Concat(declared.Implicit.Where(name => !routeValues.ContainsKey(name))).Order(StringComparer.Ordinal).ToList();
            var refusal = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<UnknownQueryParameterAnswer>() is { } answer
                ? answer.Answer(unknown, accepted)
                : Problem(unknown, accepted).ToProblem();
            // Every other refusal of an audited endpoint has its record; this one runs before the endpoint's audit filter.
            await AuditedEndpointFilter.RecordRefusalAsync(context.HttpContext,
                refusal is IStatusCodeHttpResult { StatusCode: { } status } ? status : StatusCodes.Status400BadRequest,
                new { problem = ProblemTypes.Validation, fields = unknown.Select(Echo).Distinct().ToList() });
            return refusal;
        };
    }

    /// <summary>
    /// The same refusal for endpoints that are not minimal-API handlers and take no query parameter (health checks,
    /// <c>/metrics</c>): they carry <see cref="TakesNoQueryParameters"/> metadata. A middleware, since endpoint filters
    /// apply to route handlers only; placed after authorization, so a caller without a key still gets 401 from
    /// <c>/metrics</c> first.
    /// </summary>
    public static IApplicationBuilder UseRefusalOfQueryParametersWhereNoneAreTaken(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.Request.Query.Count > 0 && context.GetEndpoint()?.Metadata.GetMetadata<TakesNoQueryParameters>() is not null)
            {
                await Problem(context.Request.Query.Keys.Take(MaxReported).ToList(), []).ToProblem().ExecuteAsync(context);
                return;
            }

            await next(context);
        });

    /// <summary>The query parameters <paramref name="handler"/> binds: those it names with [FromQuery], and simple values it binds implicitly.</summary>
    public static DeclaredQueryParameters Declared(MethodInfo handler)
    {
        var named = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var implicitly = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in handler.GetParameters())
        {
            var attributes = parameter.GetCustomAttributes(inherit: true);
            if (attributes.OfType<IFromQueryMetadata>().FirstOrDefault() is { } fromQuery)
            {
                named.Add(fromQuery.Name ?? parameter.Name!);
            }
            else if (attributes.Length == 0 && IsSimple(parameter.ParameterType))
            {
                // Bound from the route when the template names it, from the query otherwise (minimal API rules).
                implicitly.Add(parameter.Name!);
            }
        }

        return new DeclaredQueryParameters(named.ToFrozenSet(StringComparer.OrdinalIgnoreCase), implicitly.ToFrozenSet(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>The 400 naming each unknown parameter and saying which ones the endpoint accepts.</summary>
    public static Failure Problem(IReadOnlyList<string> unknown, IReadOnlyList<string> accepted)
    {
        var allowed = accepted.Count == 0 ? "it takes no query parameters" : "it accepts " + string.Join(", ", accepted);
        var errors = unknown.Select(Echo).Distinct().ToDictionary(name => name, name => new[] { $"{name} is not a parameter of this endpoint; {allowed}." });
        return new Failure(StatusCodes.Status400BadRequest, ProblemTypes.Validation, "The request is invalid",
            errors.Count == 1 ? $"1 field is invalid: {errors.Keys.First()}." : $"{errors.Count} fields are invalid: {string.Join(", ", errors.Keys)}.",
            errors);
    }

    private static string Echo(string name) => name.Length <= MaxNameEcho ? name : name[..MaxNameEcho] + "…";

    private static bool IsSimple(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(Guid) || type == typeof(decimal)
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(DateOnly) || type == typeof(TimeSpan);
    }
}

/// <summary>The query parameters of an endpoint: named with [FromQuery], and bound implicitly unless the route names them.</summary>
public sealed record DeclaredQueryParameters(FrozenSet<string> Explicit, FrozenSet<string> Implicit)
{
    public bool Accepts(string name, RouteValueDictionary routeValues) =>
        Explicit.Contains(name) || (Implicit.Contains(name) && !routeValues.ContainsKey(name));
}

/// <summary>
/// Endpoint metadata: how an endpoint whose protocol has its own error format answers unknown query parameters,
/// given the unknown names and the accepted ones.
/// </summary>
public sealed record UnknownQueryParameterAnswer(Func<IReadOnlyList<string>, IReadOnlyList<string>, IResult> Answer);

/// <summary>Endpoint metadata: an endpoint that is not a route handler (health, <c>/metrics</c>) and takes no query parameter.</summary>
public sealed record TakesNoQueryParameters
{
    public static readonly TakesNoQueryParameters Instance = new();
}
