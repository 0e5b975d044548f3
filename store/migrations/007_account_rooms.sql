-- Reserved for issue 7; filled by that issue's work.
SELECT 1;
