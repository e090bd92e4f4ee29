using Lethe.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lethe.Tests.Jobs;

public sealed class JobOptionsTests
{
    [Fact]
    public void Defaults_are_valid()
        => Assert.Empty(JobOptionsValidation.Problems(new JobOptions()));

    [Fact]
    public void Each_out_of_range_setting_is_reported_by_its_configuration_key()
    {
        var problems = JobOptionsValidation.Problems(new JobOptions { Workers = -1, LeaseSeconds = 1, PollIntervalMilliseconds = 0 }).ToList();
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("Lethe:Jobs:Workers", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Lethe:Jobs:LeaseSeconds", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Lethe:Jobs:PollIntervalMilliseconds", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_are_bound_from_the_section_and_validated()
    {
        static IOptions<JobOptions> Bind(params (string Key, string Value)[] settings)
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
                .Build();
            return new ServiceCollection().AddLetheJobs(configuration).BuildServiceProvider().GetRequiredService<IOptions<JobOptions>>();
        }

        var options = Bind(("Lethe:Jobs:Workers", "4"), ("Lethe:Jobs:LeaseSeconds", "30")).Value;
        Assert.Equal(4, options.Workers);
        Assert.Equal(30, options.LeaseSeconds);
        Assert.Equal(1000, options.PollIntervalMilliseconds);

        var error = Assert.Throws<OptionsValidationException>(() => Bind(("Lethe:Jobs:LeaseSeconds", "0")).Value);
        Assert.Contains("LeaseSeconds", error.Message, StringComparison.Ordinal);
    }
}
