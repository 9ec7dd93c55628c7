using Microsoft.OpenApi;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Swashbuckle configuration: document info, the bearer scheme, XML comments, and the filters that make the
/// document tell the whole contract (examples, headers, problem responses, required fields). The document is
/// committed as openapi/intelsharing.v1.json and a contract test fails when the two differ.
/// </summary>
public static class OpenApiSetup
{
    public const string DocumentName = "v1";

    public static IServiceCollection AddIntelSharingOpenApi(this IServiceCollection services, IReadOnlyList<WebhookEventContract> webhookEvents)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "IntelSharing API",
                Version = "1.0",
                Description = "Cross-agency sharing of alerts about migrant-smuggling networks and cyber incidents: " +
                    "submit, read and list alerts under TLP 2.0 and handling codes; agencies and their API keys.",
                License = new OpenApiLicense { Name = "Apache-2.0", Url = new Uri("https://www.apache.org/licenses/LICENSE-2.0") },
            });
            options.AddSecurityDefinition("bearer", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "isk_<prefix>_<secret>",
                Description = "An API key issued by an operator: 'Authorization: Bearer isk_…'.",
            });
            options.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference("bearer", document)] = [],
            });
            // Non-nullable properties are not marked nullable, and a $ref keeps the property's own description.
            options.SupportNonNullableReferenceTypes();
            options.UseAllOfToExtendReferenceSchemas();
            options.SchemaFilter<ContractSchemaFilter>();
            options.OperationFilter<QueryParametersOperationFilter>();
            options.OperationFilter<ProblemResponsesOperationFilter>();
            options.OperationFilter<HttpHeadersOperationFilter>();
            options.OperationFilter<ExamplesOperationFilter>();
            options.OperationFilter<ScopesOperationFilter>();
            options.OperationFilter<DefaultProblemExamplesOperationFilter>();
            options.DocumentFilter<ServersDocumentFilter>();
            options.DocumentFilter<ContractDocumentFilter>();
            options.DocumentFilter<WebhookEventsDocumentFilter>(webhookEvents);
            options.DocumentFilter<ContractCompletionDocumentFilter>();
            var xml = Path.Combine(AppContext.BaseDirectory, "IntelSharing.Api.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }
        });
        return services;
    }
}
