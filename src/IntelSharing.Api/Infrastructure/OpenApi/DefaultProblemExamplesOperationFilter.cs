using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Gives every error response that <see cref="ExamplesOperationFilter"/> did not exemplify the problem body the server
/// really writes for that status on that operation (its path as <c>instance</c>, the scope it checks in a 403), so no
/// error in the document shows Swagger's <c>"additionalProp1": "string"</c>. Runs after <see cref="ScopesOperationFilter"/>.
/// </summary>
public sealed partial class DefaultProblemExamplesOperationFilter : IOperationFilter
{
    private const string ProblemMediaType = "application/problem+json";
    private const string ExampleId = "01a1fa58-491e-7ca1-9f35-744d4250ed11";
    private const string TraceId = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Responses is null)
        {
            return;
        }

        var instance = "/" + PathParameter().Replace(context.ApiDescription.RelativePath ?? string.Empty, ExampleId);
        foreach (var (status, found) in operation.Responses)
        {
            if (found is not OpenApiResponse { Content: { } content } || !content.TryGetValue(ProblemMediaType, out var media)
                || media.Example is not null || media.Examples is { Count: > 0 })
            {
                continue;
            }

            if (Example(operation, status, instance) is { } example)
            {
                media.Examples = new Dictionary<string, IOpenApiExample>(StringComparer.Ordinal) { [example.Name] = new OpenApiExample { Summary = example.Summary, Value = example.Value } };
            }
        }
    }

    private static (string Name, string Summary, JsonObject Value)? Example(OpenApiOperation operation, string status, string instance) => status switch
    {
        "400" when operation.RequestBody is not null => ("malformedBody", "A body that is not well-formed JSON",
            Validation(ProblemTypes.MalformedRequest, "The request body is not valid JSON for this operation", instance, "body", "The body is not well-formed JSON (line 1, byte 2).")),
        "400" when operation.Parameters?.Any(p => p.Name == "cursor") == true => ("badCursor", "A cursor from another server or list",
            Validation(ProblemTypes.Validation, "The request is invalid", instance, "cursor", "The cursor is not one this API issued.")),
        "400" when operation.Parameters?.FirstOrDefault(p => p.In is ParameterLocation.Query or ParameterLocation.Header) is { Name: { } name } => ("badParameter", $"An invalid {name}",
            Validation(ProblemTypes.Validation, "The request is invalid", instance, name, $"{name} is not valid: see the parameter's description for what it accepts.")),
        // Every route refuses a query parameter it does not take, so an operation without parameters answers 400 too.
        "400" => ("unknownParameter", "A query parameter this operation does not take",
            Validation(ProblemTypes.Validation, "The request is invalid", instance, "expand", "expand is not a parameter of this endpoint; it takes no query parameters.")),
        "401" => ("noKey", "No API key, or one that no longer works",
            Problem(ProblemTypes.Unauthenticated, "Authentication required", 401, "The API key is revoked, expired, or belongs to a deactivated agency.", instance)),
        "403" => ("missingScope", "A key without the scope this operation requires",
            Problem(ProblemTypes.Forbidden, "Forbidden", 403, $"Your API key lacks the scope this operation requires: {RequiredScopes(operation)}.", instance)),
        "404" => ("notFound", "Absent, or not yours to see: the answer is the same",
            Problem(ProblemTypes.NotFound, "Not found", 404, "There is no resource at this address that you may see.", instance)),
        "409" => ("conflict", "The request conflicts with the current state",
            Problem(ProblemTypes.Conflict, "Conflict", 409, "The alert is revoked; it takes no more changes.", instance)),
        "412" => ("staleETag", "Someone else changed it first",
            Problem(ProblemTypes.PreconditionFailed, "Precondition failed", 412, "The alert has changed since you read it; GET it again and retry with its current ETag.", instance)),
        "428" => ("noIfMatch", "An update without If-Match",
            Problem(ProblemTypes.PreconditionRequired, "Precondition required", 428, "Send the ETag you read as If-Match, so that you never overwrite a change you have not seen.", instance)),
        "413" => ("tooLarge", "A body over the limit",
            Problem(ProblemTypes.PayloadTooLarge, "Payload too large", 413, "The request body is 2097152 bytes; the limit is 1048576 bytes.", instance)),
        "415" => ("notJson", "A body sent as something other than application/json",
            Problem(ProblemTypes.UnsupportedMediaType, "Unsupported media type", 415, "The request body must be sent as 'application/json'.", instance)),
        "429" => ("rateLimited", "The agency's request budget is spent for now",
            Problem(ProblemTypes.RateLimited, "Too many requests", 429, "Your agency made more than 600 requests in 60 seconds. Retry after 12 seconds.", instance)),
        "503" => ("databaseDown", "The database cannot be reached",
            Problem(ProblemTypes.ServiceUnavailable, "Service unavailable", 503, "The database cannot be reached. Nothing was stored; retry after the indicated delay.", instance)),
        _ => null,
    };

    private static string RequiredScopes(OpenApiOperation operation) =>
        operation.Security?.SelectMany(requirement => requirement.Values).SelectMany(scopes => scopes).FirstOrDefault() ?? "alerts:read";

    private static JsonObject Problem(string type, string title, int status, string detail, string instance) => new()
    {
        ["type"] = type,
        ["title"] = title,
        ["status"] = status,
        ["detail"] = detail,
        ["instance"] = instance,
        ["traceId"] = TraceId,
    };

    private static JsonObject Validation(string type, string title, string instance, string field, string message)
    {
        var problem = Problem(type, title, 400, type == ProblemTypes.Validation ? $"1 field is invalid: {field}." : $"'{field}': {message}", instance);
        problem.Insert(5, "errors", new JsonObject { [field] = new JsonArray(message) });
        return problem;
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex PathParameter();
}
