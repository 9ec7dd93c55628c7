using FluentValidation;
using IntelSharing.Api.Infrastructure.Http;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IntelSharing.Api.Infrastructure.Audit;

/// <summary>
/// Gives an endpoint its audit record. It rejects an over-long X-Purpose before anything runs, and after the
/// handler has answered (but before the answer is written) it records the outcome, unless the handler already
/// recorded it inside its own transaction. Validation failures are recorded too, with the fields named.
/// </summary>
public sealed class AuditedEndpointFilter(string action, string resourceType, string? routeIdName) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var audit = http.RequestServices.GetRequiredService<AuditTrail>();
        var routeId = RouteId(http, routeIdName);

        if (RequestOrigin.PurposeOf(http.Request) is { Length: > AuditWriter.MaxPurposeLength })
        {
            var failure = Failure.Invalid(RequestOrigin.PurposeField, $"The {RequestOrigin.PurposeHeader} header is at most {AuditWriter.MaxPurposeLength} characters.");
            await audit.RecordAsync(Event(failure.Status, routeId, new { problem = failure.Type, fields = failure.Errors!.Keys }));
            return failure.ToProblem();
        }

        object? result;
        try
        {
            result = await next(context);
        }
        catch (ValidationException validation)
        {
            var fields = validation.Errors.Select(e => FieldNames.ToJsonPath(e.PropertyName)).Distinct().ToList();
            await audit.RecordAsync(Event(StatusCodes.Status400BadRequest, routeId, new { problem = ProblemTypes.Validation, fields }));
            throw;
        }

        if (!audit.HasRecorded)
        {
            var answered = Unwrapped(result);
            var status = answered is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status200OK;
            var resourceId = audit.AnnotatedResourceId ?? routeId ?? CreatedId(answered);
            await audit.RecordAsync(Event(status, resourceId, audit.AnnotatedDetail ?? ProblemSummary(answered)));
        }

        return result;
    }

    /// <summary>
    /// Records a request to an audited endpoint that was refused before this filter ran: a route group's filters run
    /// first, and an undeclared query parameter is refused there (<see cref="UnknownQueryParameters"/>). The record is
    /// the one this filter writes for a validation failure. Nothing is recorded for an endpoint that is not audited.
    /// </summary>
    public static async Task RecordRefusalAsync(HttpContext http, int status, object detail)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<AuditedEndpointMetadata>() is not { } audited)
        {
            return;
        }

        await http.RequestServices.GetRequiredService<AuditTrail>().RecordAsync(
            new AuditEvent(audited.Action, status) { ResourceType = audited.ResourceType, ResourceId = RouteId(http, audited.RouteIdName), Detail = detail });
    }

    private static Guid? RouteId(HttpContext http, string? routeIdName) =>
        routeIdName is not null && Guid.TryParse(http.Request.RouteValues[routeIdName]?.ToString(), out var id) ? id : null;

    private AuditEvent Event(int outcome, Guid? resourceId, object? detail) => new(action, outcome)
    {
        ResourceType = resourceType,
        ResourceId = resourceId,
        Detail = detail,
    };

    /// <summary>The result an endpoint's <c>Results&lt;…&gt;</c> union (or a problem result) holds, down to the one that is written.</summary>
    private static object? Unwrapped(object? result)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }

        return result;
    }

    private static object? ProblemSummary(object? result)
    {
        if (result is not ProblemHttpResult { ProblemDetails: var problem })
        {
            return null;
        }

        var fields = problem.Extensions.TryGetValue("errors", out var errors) && errors is IReadOnlyDictionary<string, string[]> named
            ? named.Keys.ToList()
            : null;
        return new { problem = problem.Type, fields };
    }

    /// <summary>A replayed creation answers with the stored document; its Location names the resource.</summary>
    private static Guid? CreatedId(object? result) =>
        result is JsonDocumentResult { Location: { } location } && Guid.TryParse(location.AsSpan(location.LastIndexOf('/') + 1), out var id) ? id : null;
}

/// <summary>Marks an endpoint that has the audit filter, so that a test can list the endpoints without one.</summary>
public sealed record AuditedEndpointMetadata(string Action, string ResourceType, string? RouteIdName = null);

public static class AuditedEndpoints
{
    /// <summary>Records every call of the endpoint as <paramref name="action"/> on <paramref name="resourceType"/>, the id taken from the route value <paramref name="routeIdName"/>.</summary>
    public static RouteHandlerBuilder Audited(this RouteHandlerBuilder builder, string action, string resourceType, string? routeIdName = null) =>
        builder.AddEndpointFilter(new AuditedEndpointFilter(action, resourceType, routeIdName))
            .WithMetadata(new AuditedEndpointMetadata(action, resourceType, routeIdName));
}
