using System.Text.Json.Nodes;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Makes the error responses of every operation say what they mean and which problem <c>type</c> they carry,
/// and declares the ones that every operation of a kind can produce although no endpoint lists them:
/// 413 and 415 wherever there is a request body (the body limit and the JSON media type apply to all),
/// 503 with Retry-After wherever the database is involved (every API operation: the key is checked there).
/// </summary>
public sealed class ProblemResponsesOperationFilter : IOperationFilter
{
    private const string ProblemMediaType = "application/problem+json";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        operation.Responses ??= [];
        if (operation.RequestBody is not null)
        {
            Ensure(operation, context, StatusCodes.Status413PayloadTooLarge);
            Ensure(operation, context, StatusCodes.Status415UnsupportedMediaType);
        }

        if (context.ApiDescription.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true)
        {
            Ensure(operation, context, StatusCodes.Status503ServiceUnavailable);
        }

        foreach (var (status, found) in operation.Responses)
        {
            if (found is not OpenApiResponse response || status.Length != 3 || status[0] is not ('4' or '5'))
            {
                continue;
            }

            response.Description = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ProblemResponseDescription>()
                    .FirstOrDefault(described => described.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) == status)?.Description
                ?? Describe(status, hasBody: operation.RequestBody is not null)
                ?? response.Description;
            if (status == "401")
            {
                AddHeader(response, "WWW-Authenticate", "Bearer realm=\"IntelSharing\"", "The authentication scheme to use.");
            }
            else if (status == "503")
            {
                AddHeader(response, "Retry-After", "5", "Seconds to wait before retrying.");
            }
        }
    }

    private static void Ensure(OpenApiOperation operation, OperationFilterContext context, int status)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }

        operation.Responses[key] = new OpenApiResponse
        {
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                [ProblemMediaType] = new() { Schema = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository) },
            },
        };
    }

    private static string? Describe(string status, bool hasBody) => status switch
    {
        "400" when hasBody => $"The request is invalid; `errors` names each offending field ({ProblemTypes.Validation}, or {ProblemTypes.MalformedRequest} when the body is not JSON of the expected shape).",
        "400" => $"The request is invalid; `errors` names each offending parameter ({ProblemTypes.Validation}).",
        "401" => $"No API key, or one that is malformed, unknown, revoked or expired ({ProblemTypes.Unauthenticated}).",
        "403" => $"The API key lacks the scope this operation requires ({ProblemTypes.Forbidden}).",
        "404" => $"No such resource ({ProblemTypes.NotFound}).",
        "409" => $"The request conflicts with the current state ({ProblemTypes.Conflict}).",
        "413" => $"The body is larger than the server accepts; `detail` gives the limit ({ProblemTypes.PayloadTooLarge}).",
        "415" => $"The body was not sent as application/json ({ProblemTypes.UnsupportedMediaType}).",
        "503" => $"The database cannot be reached and nothing was changed; retry after the Retry-After delay ({ProblemTypes.ServiceUnavailable}).",
        _ => null,
    };

    private static void AddHeader(OpenApiResponse response, string name, string example, string description)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
        response.Headers[name] = new OpenApiHeader
        {
            Description = description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create(example),
        };
    }
}
