import './config/load.ts';
