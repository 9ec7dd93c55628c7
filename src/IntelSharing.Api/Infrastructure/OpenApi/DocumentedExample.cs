using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Endpoint metadata: a named example of the endpoint's JSON request body (<see cref="Status"/> null) or of one of its
/// responses, set by the slice and attached by <see cref="ExamplesOperationFilter"/> in the order the slice lists them,
/// so that the OpenAPI filters need not know operations by name.
/// </summary>
public sealed record DocumentedExample(string? Status, string MediaType, string Name, string Summary, Func<JsonNode> Value)
{
    private const string Json = "application/json";
    private const string Problem = "application/problem+json";

    public static DocumentedExample Request(string name, string summary, Func<JsonNode> value) => new(null, Json, name, summary, value);

    public static DocumentedExample Response(int status, string name, string summary, Func<JsonNode> value, string mediaType = Json) =>
        new($"{status}", mediaType, name, summary, value);

    public static DocumentedExample ProblemResponse(int status, string name, string summary, Func<JsonNode> value) =>
        new($"{status}", Problem, name, summary, value);
}

/// <summary>
/// Endpoint metadata: a request header the endpoint reads that its parameters cannot describe (<see cref="Status"/>
/// null), or a header one of its responses carries; applied by <see cref="HttpHeadersOperationFilter"/>.
/// </summary>
public sealed record DocumentedHeader(int? Status, string Name, string Description, string Example, OpenApiSchema? Schema = null)
{
    public static DocumentedHeader Request(string name, string description, string example, OpenApiSchema? schema = null) =>
        new(null, name, description, example, schema);

    public static DocumentedHeader Response(int status, string name, string description, string example) => new(status, name, description, example);
}

/// <summary>Endpoint metadata: what a non-problem status (such as 304) means on this endpoint.</summary>
public sealed record ResponseDescription(int Status, string Description);
