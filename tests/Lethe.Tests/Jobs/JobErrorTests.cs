using Lethe.Jobs;

namespace Lethe.Tests.Jobs;

public sealed class JobErrorTests
{
    [Fact]
    public void The_error_is_the_exception_type_and_message()
        => Assert.Equal("InvalidOperationException: the archive is offline", JobError.Describe(new InvalidOperationException("the archive is offline")));

    [Fact]
    public void The_root_cause_is_named_and_the_stack_trace_left_out()
    {
        Exception thrown;
        try
        {
            try
            {
                throw new IOException("disk full");
            }
            catch (IOException e)
            {
                throw new InvalidOperationException("export failed", new AggregateException(e));
            }
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }

        var error = JobError.Describe(thrown);

        Assert.Equal("InvalidOperationException: export failed ---> IOException: disk full", error);
        Assert.NotNull(thrown.StackTrace);
        Assert.DoesNotContain(" at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_messages_are_cut_to_fit_the_column()
    {
        var error = JobError.Describe(new InvalidOperationException(new string('x', 10_000)));
        Assert.Equal(JobError.MaxLength, error.Length);
        Assert.EndsWith("…", error, StringComparison.Ordinal);
    }
}
