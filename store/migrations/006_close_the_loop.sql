-- Reserved for issue 6; filled by that issue's work.
SELECT 1;
