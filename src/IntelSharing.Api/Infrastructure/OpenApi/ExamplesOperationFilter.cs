using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Attaches the examples each slice declares on its endpoint (<see cref="DocumentedExample"/>, usually built from
/// <see cref="ContractExamples"/>) to its request body and responses. Both alert categories are shown wherever alerts travel.
/// </summary>
public sealed class ExamplesOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        foreach (var example in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<DocumentedExample>())
        {
            var content = example.Status is null
                ? operation.RequestBody?.Content
                : operation.Responses?.TryGetValue(example.Status, out var response) == true ? response.Content : null;
            if (content?.TryGetValue(example.MediaType, out var media) == true)
            {
                media.Examples ??= new Dictionary<string, IOpenApiExample>(StringComparer.Ordinal);
                media.Examples[example.Name] = new OpenApiExample { Summary = example.Summary, Value = example.Value() };
            }
        }
    }
}
