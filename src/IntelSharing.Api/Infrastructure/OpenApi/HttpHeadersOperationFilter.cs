using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Declares the HTTP semantics that endpoint metadata cannot express: the Idempotency-Key request header,
/// Location, ETag and Idempotent-Replayed on a published alert, If-None-Match and 304 on a read, and the
/// Location of everything else that answers 201.
/// </summary>
public sealed class HttpHeadersOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        switch (operation.OperationId)
        {
            case "SubmitAlert":
                DescribeIdempotencyKey(operation);
                AddHeader(operation, "201", "Location", "The alert's address: /api/v1/alerts/{id}.", $"/api/v1/alerts/{ContractExamples.SmugglingAlertId}");
                AddHeader(operation, "201", "ETag", "The version as a strong entity tag, e.g. \"1\"; send it back as If-None-Match when you read the alert again.", "\"1\"");
                AddHeader(operation, "201", "Idempotent-Replayed", "Present (true) when this is the original response replayed for a repeated Idempotency-Key.", "true");
                break;

            case "GetAlert":
                AddRequestHeader(operation, "If-None-Match",
                    "An ETag from an earlier response. When it names the current version the answer is 304 with no body.", "\"1\"");
                AddHeader(operation, "200", "ETag", "The current version as a strong entity tag, e.g. \"2\".", "\"1\"");
                if (operation.Responses?.TryGetValue("304", out var notModified) == true && notModified is OpenApiResponse response)
                {
                    response.Description = "Not modified: If-None-Match names the current version.";
                }

                break;

            case "RegisterAgency":
                AddHeader(operation, "201", "Location", "The agency's address: /api/v1/agencies/{id}.", $"/api/v1/agencies/{ContractExamples.BorderPoliceId}");
                break;

            case "IssueApiKey":
                AddHeader(operation, "201", "Location", "The key's address: /api/v1/agencies/{agencyId}/keys/{keyId}.",
                    $"/api/v1/agencies/{ContractExamples.BorderPoliceId}/keys/{ContractExamples.BorderPoliceKeyId}");
                break;
        }
    }

    private static void DescribeIdempotencyKey(OpenApiOperation operation)
    {
        var existing = operation.Parameters?.FirstOrDefault(p => p.In == ParameterLocation.Header && p.Name == "Idempotency-Key");
        if (existing is not null)
        {
            operation.Parameters!.Remove(existing);
        }

        AddRequestHeader(operation, "Idempotency-Key",
            "Makes retries safe. The same key with the same body returns the original 201 (with Idempotent-Replayed: true) and creates nothing; " +
            "the same key with a different body is a 409. Keys are scoped to your agency. 1 to 255 visible ASCII characters; a UUID is a good choice.",
            "7c0e3b1a-2f4d-4e0b-9a51-3d2e8f6b1c44",
            new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 255, Pattern = "^[\\x21-\\x7E]+$" });
    }

    private static void AddRequestHeader(OpenApiOperation operation, string name, string description, string example, OpenApiSchema? schema = null)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Header,
            Required = false,
            Description = description,
            Schema = schema ?? new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create(example),
        });
    }

    private static void AddHeader(OpenApiOperation operation, string status, string name, string description, string example)
    {
        if (operation.Responses?.TryGetValue(status, out var found) != true || found is not OpenApiResponse response)
        {
            return;
        }

        response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
        response.Headers[name] = new OpenApiHeader
        {
            Description = description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create(example),
        };
    }
}
