/**
 * Lesson 5's exercises: every solution passes its check and every stub says it is not done
 * (`LESSON_EXERCISES=student` checks the student's file instead).
 *
 * @module
 */
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

testTasks(tasks, solutions, exercises, {
  exercisesUrl: new URL("./exercises.ts", import.meta.url).href,
});
