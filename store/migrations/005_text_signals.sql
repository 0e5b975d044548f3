-- Reserved for issue 5; filled by that issue's work.
SELECT 1;
